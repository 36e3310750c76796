package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The per-task timeout is decided by the attempt's running time as well as by its timer: a timer
 * starved on a busy machine (here: one that cannot fire within the test, against a clock the task
 * moves) must not let an over-time attempt pass as a success.
 */
class WorkerPoolTaskTimeoutClockTest {
  private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);

  private WorkerPool pool() {
    return WorkerPool.builder(
            ParallelConfig.builder()
                .concurrency(1) // one clock for all tasks: running one at a time, each sees only its own time
                .taskTimeout(Duration.ofMinutes(10))
                .rateSpacing(Duration.ZERO)
                .maxAttempts(1)
                .build())
        .ticker(clock::get)
        .build();
  }

  @Test
  void anAttemptThatOverranIsATimeoutEvenIfTheTimerNeverFired() throws Exception {
    try (WorkerPool pool = pool()) {
      FanOutReport<String, String> report =
          pool.fanOutAndWait(
              List.of("overran", "in-time"),
              key -> {
                clock.addAndGet(
                    key.equals("overran") ? Duration.ofMinutes(11).toNanos() : Duration.ofMinutes(1).toNanos());
                return key;
              });
      assertThat(report.values()).containsOnlyKeys("in-time");
      assertThat(report.errors().get("overran"))
          .isInstanceOf(TaskTimeoutException.class)
          .hasMessage("task for key overran timed out after PT10M");
    }
  }

  @Test
  void aFailingAttemptThatOverranIsReportedAsTheTimeoutWithItsErrorSuppressed() throws Exception {
    try (WorkerPool pool = pool()) {
      FanOutReport<String, String> report =
          pool.fanOutAndWait(
              List.of("k"),
              key -> {
                clock.addAndGet(Duration.ofMinutes(11).toNanos());
                throw new IllegalStateException("late and broken");
              });
      assertThat(report.errors().get("k")).isInstanceOf(TaskTimeoutException.class);
      assertThat(report.errors().get("k").getSuppressed())
          .singleElement()
          .satisfies(e -> assertThat(e).hasMessage("late and broken"));
    }
  }
}
