package dev.fanout.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void formatsShortAndReadable() {
    assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
    assertThat(Durations.format(Duration.ofNanos(750))).isEqualTo("750ns");
    assertThat(Durations.format(Duration.ofNanos(12_500))).isEqualTo("12.5µs");
    assertThat(Durations.format(Duration.ofMillis(250))).isEqualTo("250ms");
    assertThat(Durations.format(Duration.ofSeconds(1))).isEqualTo("1s");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
    assertThat(Durations.format(Duration.ofSeconds(125))).isEqualTo("2m5s");
    assertThat(Durations.format(Duration.ofMinutes(62))).isEqualTo("1h2m");
    assertThat(Durations.format(Duration.ofMillis(-20))).isEqualTo("-20ms");
  }
}
