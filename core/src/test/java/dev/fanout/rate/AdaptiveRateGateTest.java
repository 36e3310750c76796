package dev.fanout.rate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fanout.time.FakeTime;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class AdaptiveRateGateTest {
  private final FakeTime time = FakeTime.autoAdvancing();

  private AdaptiveRateGate.Builder gate() {
    return AdaptiveRateGate.builder().ticker(time).sleeper(time);
  }

  @Test
  void throttlingHalvesTheRateOncePerCooldownDownToTheFloor() {
    AdaptiveRateGate gate =
        gate().floor(2).ceiling(100).initialRate(40).cooldown(Duration.ofSeconds(1)).build();
    gate.onThrottle();
    assertThat(gate.rate()).isEqualTo(20);
    gate.onThrottle(); // the same episode: ignored
    assertThat(gate.rate()).isEqualTo(20);
    time.advance(Duration.ofMillis(999));
    gate.onThrottle();
    assertThat(gate.rate()).isEqualTo(20);
    time.advance(Duration.ofMillis(1));
    gate.onThrottle();
    assertThat(gate.rate()).isEqualTo(10);
    for (int i = 0; i < 10; i++) {
      time.advance(Duration.ofSeconds(1));
      gate.onThrottle();
    }
    assertThat(gate.rate()).isEqualTo(2);
  }

  @Test
  void successesRaiseTheRateSlowlyUpToTheCeiling() {
    AdaptiveRateGate gate = gate().floor(1).ceiling(12).initialRate(10).increasePerSecond(10).build();
    gate.onSuccess();
    assertThat(gate.rate()).isEqualTo(11); // + 10 / 10
    gate.onSuccess();
    assertThat(gate.rate()).isCloseTo(11 + 10 / 11.0, org.assertj.core.data.Offset.offset(1e-9));
    for (int i = 0; i < 100; i++) {
      gate.onSuccess();
    }
    assertThat(gate.rate()).isEqualTo(12);
  }

  @Test
  void aboutIncreasePerSecondPerSecondOfSteadySuccess() throws InterruptedException {
    AdaptiveRateGate gate =
        gate().floor(1).ceiling(1000).initialRate(10).increasePerSecond(10).build();
    long start = time.read();
    while (time.read() - start < Duration.ofSeconds(5).toNanos()) {
      gate.acquire();
      gate.onSuccess();
    }
    // 10/s plus about 10/s per second for 5 s
    assertThat(gate.rate()).isBetween(55.0, 65.0);
  }

  @Test
  void theNewRateSpacesLaterPermits() throws InterruptedException {
    AdaptiveRateGate gate = gate().floor(1).ceiling(10).initialRate(10).build();
    gate.acquire(); // t = 0, next slot at 100 ms
    gate.acquire(); // t = 100 ms
    gate.onThrottle(); // 5 per second
    long before = time.read();
    gate.acquire();
    assertThat(Duration.ofNanos(time.read() - before)).isEqualTo(Duration.ofMillis(100));
    before = time.read();
    gate.acquire();
    assertThat(Duration.ofNanos(time.read() - before)).isEqualTo(Duration.ofMillis(200));
  }

  @Test
  void publishesItsRate() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AdaptiveRateGate gate = gate().floor(1).ceiling(8).name("sts").meterRegistry(registry).build();
    gate.onThrottle();
    assertThat(registry.get("fanout.rate.adaptive.rate").tag("name", "sts").gauge().value())
        .isEqualTo(4);
  }

  @Test
  void rejectsBadSettingsWithClearMessages() {
    assertThatThrownBy(() -> gate().ceiling(1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("floor must be set");
    assertThatThrownBy(() -> gate().floor(0).ceiling(1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("floor must be positive and finite, was 0.0");
    assertThatThrownBy(() -> gate().floor(2).ceiling(1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ceiling must be at least floor (2.0), was 1.0");
    assertThatThrownBy(() -> gate().floor(1).ceiling(2).initialRate(3).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("initialRate must be between floor (1.0) and ceiling (2.0), was 3.0");
    assertThatThrownBy(() -> gate().floor(1).ceiling(2).decreaseFactor(1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("decreaseFactor must be between 0 and 1 (both excluded), was 1.0");
    assertThatThrownBy(() -> gate().floor(1).ceiling(2).increasePerSecond(-1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("increasePerSecond must be positive and finite, was -1.0");
    assertThatThrownBy(() -> gate().floor(1).ceiling(2).burst(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("burst must be at least 1, was 0");
    assertThatThrownBy(() -> gate().floor(1).ceiling(2).cooldown(Duration.ofSeconds(-1)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cooldown must not be negative, was PT-1S");
  }
}
