package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Many keys, exact counts, and no thread left behind. */
class WorkerPoolStressTest {

  @Test
  void hundredThousandKeysWithRandomOutcomesGetExactlyOneResultEach() throws Exception {
    Set<String> platformBefore = Threads.fanoutThreadNames();
    CountingThreadFactory threads = new CountingThreadFactory();
    int n = 100_000;
    // Outcome by key, so the expected counts are known up front: 1 in 1,000 times out, 1 in 10 throws.
    int expectedTimeouts = (int) IntStream.range(0, n).filter(k -> k % 1000 == 7).count();
    int expectedErrors = (int) IntStream.range(0, n).filter(k -> k % 1000 != 7 && k % 10 == 3).count();
    AtomicLong runs = new AtomicLong();
    FanOutReport<Integer, Integer> report;
    try (WorkerPool pool =
        WorkerPool.builder(
                ParallelConfig.builder().concurrency(64).taskTimeout(Duration.ofSeconds(2)).build())
            .name("stress")
            .threadFactory(threads)
            .build()) {
      report =
          pool.fanOutAndWait(
              IntStream.range(0, n).boxed().toList(),
              key -> {
                runs.incrementAndGet();
                if (key % 1000 == 7) {
                  TimeUnit.MINUTES.sleep(1); // interrupted by the task timeout
                }
                if (key % 10 == 3) {
                  throw new IllegalStateException("failure " + key);
                }
                return key;
              });
      assertThat(pool.status().completed()).isEqualTo(n - expectedTimeouts - expectedErrors);
      assertThat(pool.status().failed()).isEqualTo(expectedTimeouts + expectedErrors);
    }

    assertThat(runs.get()).isEqualTo(n);
    assertThat(report.total()).isEqualTo(n);
    assertThat(report.succeeded() + report.failed()).isEqualTo(n);
    assertThat(report.missing()).isZero();
    Set<Integer> keys = new HashSet<>(report.successes().keySet());
    keys.addAll(report.failures().keySet());
    assertThat(keys).hasSize(n);
    long timeouts = report.errors().values().stream().filter(TaskTimeoutException.class::isInstance).count();
    long errors = report.errors().values().stream().filter(IllegalStateException.class::isInstance).count();
    assertThat(timeouts).isEqualTo(expectedTimeouts);
    assertThat(errors).isEqualTo(expectedErrors);
    assertThat(report.succeeded()).isEqualTo(n - expectedTimeouts - expectedErrors);
    report.values().forEach((k, v) -> assertThat(v).isEqualTo(k));

    // After close(): every worker thread has ended and the timer thread is gone.
    assertThat(threads.aliveThreads()).isEmpty();
    assertThat(threads.live()).isZero();
    // The timer's executor counts as terminated a moment before its thread has ended. (A thread
    // of an earlier test's pool that was still ending at the start may be gone by now.)
    await()
        .untilAsserted(() -> assertThat(Threads.fanoutThreadNames()).isSubsetOf(platformBefore));
  }

  @Test
  void aMillionQueuedKeysDoNotMeanAMillionThreads() throws Exception {
    CountingThreadFactory threads = new CountingThreadFactory();
    int n = 1_000_000;
    List<Integer> keys = IntStream.range(0, n).boxed().toList();
    AtomicLong sum = new AtomicLong();
    try (WorkerPool pool =
        WorkerPool.builder(ParallelConfig.builder().concurrency(16).build())
            .threadFactory(threads)
            .build()) {
      ResultChannel<Integer, Integer> channel =
          pool.fanOut(
              keys,
              key -> {
                sum.addAndGet(key);
                return key;
              });
      assertThat(threads.live()).isLessThanOrEqualTo(16);
      FanOutReport<Integer, Integer> report = channel.awaitReport();
      assertThat(report.succeeded()).isEqualTo(n);
    }
    assertThat(sum.get()).isEqualTo((long) n * (n - 1) / 2);
    assertThat(threads.peak()).isLessThanOrEqualTo(16);
    // Workers are reused while the queue is non-empty: a handful of threads, not one per key.
    assertThat(threads.created()).isLessThan(1_000);
    assertThat(threads.aliveThreads()).isEmpty();
  }
}
