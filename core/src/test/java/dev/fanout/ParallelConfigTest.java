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
        .extracting("maxWorkers", "timeout", "rateSpacing", "maxRetries")
        .containsExactly(10, Duration.ofMinutes(5), Duration.ofMillis(100), 3);
    assertThat(ParallelConfig.conservative())
        .extracting("maxWorkers", "timeout", "rateSpacing", "maxRetries")
        .containsExactly(5, Duration.ofMinutes(10), Duration.ofMillis(500), 5);
    assertThat(ParallelConfig.aggressive())
        .extracting("maxWorkers", "timeout", "rateSpacing", "maxRetries")
        .containsExactly(20, Duration.ofMinutes(3), Duration.ofMillis(50), 2);
    assertThat(ParallelConfig.defaults().failureMode()).isEqualTo(FailureMode.COLLECT_ALL);
  }

  @Test
  void toBuilderRoundTrips() {
    ParallelConfig config = ParallelConfig.conservative();
    assertThat(config.toBuilder().build()).isEqualTo(config);
    assertThat(config.toBuilder().maxWorkers(7).build().maxWorkers()).isEqualTo(7);
  }

  @Property
  void everyValidMaxWorkersIsAccepted(@ForAll @IntRange(min = 1, max = ParallelConfig.MAX_WORKERS) int n) {
    assertThat(ParallelConfig.builder().maxWorkers(n).build().maxWorkers()).isEqualTo(n);
  }

  @Property
  void everyInvalidMaxWorkersIsRejectedNamingFieldAndValue(@ForAll("badWorkers") int n) {
    assertThatThrownBy(() -> ParallelConfig.builder().maxWorkers(n).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxWorkers must be between 1 and 1000000, was " + n);
  }

  @Provide
  Arbitrary<Integer> badWorkers() {
    return Arbitraries.oneOf(
        Arbitraries.integers().lessOrEqual(0),
        Arbitraries.integers().greaterOrEqual(ParallelConfig.MAX_WORKERS + 1));
  }

  @Property
  void everyInvalidMaxRetriesIsRejected(@ForAll("badRetries") int n) {
    assertThatThrownBy(() -> ParallelConfig.builder().maxRetries(n).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxRetries must be between 0 and 1000, was " + n);
  }

  @Provide
  Arbitrary<Integer> badRetries() {
    return Arbitraries.oneOf(
        Arbitraries.integers().lessOrEqual(-1),
        Arbitraries.integers().greaterOrEqual(ParallelConfig.MAX_RETRIES + 1));
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
