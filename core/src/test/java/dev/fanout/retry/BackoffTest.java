package dev.fanout.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private final SplittableRandom random = new SplittableRandom(42);

  @Test
  void exponentialDoublesUpToTheCap() {
    Backoff b = Backoff.exponential(Duration.ofSeconds(1), 2.0, Duration.ofSeconds(5));
    assertThat(IntStream.rangeClosed(1, 5).mapToObj(n -> b.delay(n, Duration.ZERO, random)))
        .containsExactly(
            Duration.ofSeconds(1),
            Duration.ofSeconds(2),
            Duration.ofSeconds(4),
            Duration.ofSeconds(5),
            Duration.ofSeconds(5));
  }

  @Test
  void fixedIsTheSameEveryTime() {
    Backoff b = Backoff.fixed(Duration.ofMillis(250));
    assertThat(b.delayNanos(1, 0, random)).isEqualTo(250_000_000L);
    assertThat(b.delayNanos(1_000_000, 0, random)).isEqualTo(250_000_000L);
    assertThat(Backoff.none().delayNanos(7, 0, random)).isZero();
  }

  @Test
  void hugeRetryNumbersSaturateAtTheCap() {
    Backoff b = Backoff.exponential(Duration.ofMillis(1), 10, Backoff.MAX_DELAY);
    assertThat(b.baseNanos(Integer.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
    assertThat(b.withJitter(Jitter.FULL).delayNanos(Integer.MAX_VALUE, 0, random))
        .isBetween(0L, Long.MAX_VALUE);
  }

  @Test
  void rejectsNegativeDelays() {
    assertThatThrownBy(() -> Backoff.fixed(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("initial must not be negative, was PT-0.001S");
    assertThatThrownBy(
            () -> Backoff.exponential(Duration.ofSeconds(2), 2, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("max must be at least initial (PT2S), was PT1S");
  }

  @Test
  void rejectsBadMultipliers() {
    for (double m : new double[] {0.5, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertThatThrownBy(() -> Backoff.exponential(Duration.ZERO, m, Duration.ofSeconds(1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("multiplier must be at least 1.0 and finite, was " + m);
    }
  }

  @Test
  @SuppressWarnings("DataFlowIssue")
  void rejectsNullJitterAndNullDurations() {
    Backoff b = Backoff.fixed(Duration.ofSeconds(1));
    assertThatThrownBy(() -> b.withJitter(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("jitter must not be null");
    assertThatThrownBy(() -> Backoff.fixed(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("delay must not be null");
  }

  @Test
  void rejectsRetryBelowOne() {
    Backoff b = Backoff.fixed(Duration.ofSeconds(1));
    assertThatThrownBy(() -> b.delayNanos(0, 0, random))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("retry must be at least 1, was 0");
    assertThatThrownBy(() -> b.withJitter(Jitter.DECORRELATED).delayNanos(-3, 0, random))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("retry must be at least 1, was -3");
  }
}
