package dev.fanout.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.Progress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class LoggingProgressListenerTest {

  @Test
  void formatsDoneTotalFailuresRateAndEta() {
    Progress progress =
        new Progress(120, 300, 2, Duration.ofSeconds(3), 40.0, Duration.ofMillis(4_500));
    assertThat(LoggingProgressListener.format(progress))
        .isEqualTo("progress: 120/300 done, 2 failed, 40.0/s, ETA 4.5 s");
  }

  @Test
  void unknownEtaBeforeTheFirstResult() {
    Progress progress = new Progress(0, 10, 0, Duration.ZERO, 0.0, null);
    assertThat(LoggingProgressListener.format(progress)).endsWith("ETA ?");
  }

  @Test
  void secondsHaveOneDecimal() {
    assertThat(LoggingProgressListener.seconds(Duration.ofMillis(2_149))).isEqualTo("2.1 s");
    assertThat(LoggingProgressListener.seconds(Duration.ofMillis(60_000))).isEqualTo("60.0 s");
  }
}
