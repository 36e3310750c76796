package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class ParallelConfigTest {

  @Test
  void presetsCarryTheOriginalValues() {
    assertThat(ParallelConfig.defaults())
        .extracting("concurrency", "timeout", "rateSpacing", "maxAttempts")
        .containsExactly(10, Duration.ofMinutes(5), Duration.ofMillis(100), 4);
    assertThat(ParallelConfig.conservative())
        .extracting("concurrency", "timeout", "rateSpacing", "maxAttempts")
        .containsExactly(5, Duration.ofMinutes(10), Duration.ofMillis(500), 6);
    assertThat(ParallelConfig.aggressive())
        .extracting("concurrency", "timeout", "rateSpacing", "maxAttempts")
        .containsExactly(20, Duration.ofMinutes(3), Duration.ofMillis(50), 3);
    assertThat(ParallelConfig.defaults().failureMode()).isEqualTo(FailureMode.COLLECT_ALL);
  }

  @Test
  void toBuilderRoundTrips() {
    ParallelConfig config = ParallelConfig.conservative();
    assertThat(config.toBuilder().build()).isEqualTo(config);
    assertThat(config.toBuilder().concurrency(7).build().concurrency()).isEqualTo(7);
  }

  @Test
  @SuppressWarnings("removal")
  void theDeprecatedNamesSetAndReadTheSameSettings() {
    // The presets' retries, as the deprecated names count them: 3, 5, 2.
    assertThat(ParallelConfig.defaults().maxRetries()).isEqualTo(3);
    assertThat(ParallelConfig.conservative().maxRetries()).isEqualTo(5);
    assertThat(ParallelConfig.aggressive().maxRetries()).isEqualTo(2);
    ParallelConfig config = ParallelConfig.builder().maxWorkers(7).maxRetries(2).build();
    assertThat(config.concurrency()).isEqualTo(7).isEqualTo(config.maxWorkers());
    assertThat(config.maxAttempts()).isEqualTo(3);
    assertThat(ParallelConfig.MAX_WORKERS).isEqualTo(ParallelConfig.MAX_CONCURRENCY);
    assertThat(ParallelConfig.MAX_RETRIES).isEqualTo(ParallelConfig.MAX_ATTEMPTS - 1);
    assertThatThrownBy(() -> ParallelConfig.builder().maxRetries(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxRetries must be between 0 and 1000, was -1");
    assertThatThrownBy(() -> ParallelConfig.builder().maxRetries(1001))
        .hasMessage("maxRetries must be between 0 and 1000, was 1001");
  }

  @Property
  void everyValidConcurrencyIsAccepted(
      @ForAll @IntRange(min = 1, max = ParallelConfig.MAX_CONCURRENCY) int n) {
    assertThat(ParallelConfig.builder().concurrency(n).build().concurrency()).isEqualTo(n);
  }

  @Property
  void everyInvalidConcurrencyIsRejectedNamingFieldAndValue(@ForAll("badWorkers") int n) {
    assertThatThrownBy(() -> ParallelConfig.builder().concurrency(n).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("concurrency must be between 1 and 1000000, was " + n);
  }

  @Provide
  Arbitrary<Integer> badWorkers() {
    return Arbitraries.oneOf(
        Arbitraries.integers().lessOrEqual(0),
        Arbitraries.integers().greaterOrEqual(ParallelConfig.MAX_CONCURRENCY + 1));
  }

  @Property
  void everyInvalidMaxAttemptsIsRejected(@ForAll("badAttempts") int n) {
    assertThatThrownBy(() -> ParallelConfig.builder().maxAttempts(n).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxAttempts must be between 1 and 1001, was " + n);
  }

  @Provide
  Arbitrary<Integer> badAttempts() {
    return Arbitraries.oneOf(
        Arbitraries.integers().lessOrEqual(0),
        Arbitraries.integers().greaterOrEqual(ParallelConfig.MAX_ATTEMPTS + 1));
  }

  @Property
  void nonPositiveTimeoutsAreRejectedAndPositiveAccepted(
      @ForAll @LongRange(min = -1_000_000_000L, max = 1_000_000_000L) long millis) {
    Duration d = Duration.ofMillis(millis);
    if (millis > 0) {
      ParallelConfig config = ParallelConfig.builder().timeout(d).taskTimeout(d).build();
      assertThat(config.timeout()).isEqualTo(d);
      assertThat(config.taskTimeout()).isEqualTo(d);
    } else {
      assertThatThrownBy(() -> ParallelConfig.builder().timeout(d).build())
          .hasMessage("timeout must be positive (or null for none), was " + d);
      assertThatThrownBy(() -> ParallelConfig.builder().taskTimeout(d).build())
          .hasMessage("taskTimeout must be positive (or null for none), was " + d);
    }
  }

  @Property
  void negativeSpacingAndShutdownTimeoutAreRejected(
      @ForAll @LongRange(min = -1_000_000L, max = 1_000_000L) long millis) {
    Duration d = Duration.ofMillis(millis);
    if (millis >= 0) {
      ParallelConfig config = ParallelConfig.builder().rateSpacing(d).shutdownTimeout(d).build();
      assertThat(config.rateSpacing()).isEqualTo(d);
      assertThat(config.shutdownTimeout()).isEqualTo(d);
    } else {
      assertThatThrownBy(() -> ParallelConfig.builder().rateSpacing(d).build())
          .hasMessage("rateSpacing must not be negative, was " + d);
      assertThatThrownBy(() -> ParallelConfig.builder().shutdownTimeout(d).build())
          .hasMessage("shutdownTimeout must not be negative, was " + d);
    }
  }

  @Test
  void nullsAreRejectedByName() {
    assertThatThrownBy(() -> ParallelConfig.builder().rateSpacing(null).build())
        .isInstanceOf(NullPointerException.class)
        .hasMessageStartingWith("rateSpacing must not be null");
    assertThatThrownBy(() -> ParallelConfig.builder().failureMode(null).build())
        .hasMessage("failureMode must not be null");
    assertThatThrownBy(() -> ParallelConfig.builder().shutdownTimeout(null).build())
        .hasMessage("shutdownTimeout must not be null");
    assertThatThrownBy(() -> WorkerPool.builder(ParallelConfig.defaults()).name(" "))
        .hasMessage("name must not be blank, was ' '");
  }
}
