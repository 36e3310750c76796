package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.rate.RateGate;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The pool runs each task under its retry policy, and each attempt passes its key's rate gate. */
class WorkerPoolRetryRateTest {
  private static final RetryPolicy NO_WAIT =
      RetryPolicy.builder().maxAttempts(3).backoff(Backoff.none()).build();

  /** A gate that lets everything through and counts who passed. */
  static final class CountingGate implements RateGate {
    final AtomicInteger acquired = new AtomicInteger();

    @Override
    public void acquire() {
      acquired.incrementAndGet();
    }

    @Override
    public boolean tryAcquire(Duration timeout) {
      acquired.incrementAndGet();
      return true;
    }

    @Override
    public boolean tryAcquire() {
      acquired.incrementAndGet();
      return true;
    }
  }

  @Test
  void failuresAreRetriedAndEveryAttemptPassesTheGate() throws Exception {
    CountingGate gate = new CountingGate();
    Map<Integer, AtomicInteger> calls = new ConcurrentHashMap<>();
    try (WorkerPool pool =
        WorkerPool.builder(ParallelConfig.builder().concurrency(4).build())
            .retryPolicy(NO_WAIT)
            .rateGate(gate)
            .build()) {
      FanOutReport<Integer, Integer> report =
          pool.fanOutAndWait(
              IntStream.range(0, 10).boxed().toList(),
              key -> {
                int call = calls.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                if (key == 0) {
                  throw new IllegalStateException("always");
                }
                if (key % 2 == 1 && call < 3) {
                  throw new IllegalStateException("transient");
                }
                return key;
              });
      assertThat(report.succeeded()).isEqualTo(9);
      assertThat(report.failures().get(0).attempts()).isEqualTo(3);
      assertThat(report.successes().get(1).attempts()).isEqualTo(3);
      assertThat(report.successes().get(2).attempts()).isEqualTo(1);
      // key 0: 2 retries; 5 odd keys: 2 retries each.
      assertThat(pool.status().retried()).isEqualTo(12);
    }
    assertThat(gate.acquired.get()).isEqualTo(calls.values().stream().mapToInt(AtomicInteger::get).sum());
  }

  @Test
  void theTimeoutAppliesToEachAttemptAndATimedOutAttemptIsRetried() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (WorkerPool pool =
        WorkerPool.builder(
                ParallelConfig.builder().concurrency(1).taskTimeout(Duration.ofSeconds(1)).build())
            .retryPolicy(NO_WAIT)
            .build()) {
      TaskHandle<String, String> handle =
          pool.submit(
              "k",
              key -> {
                if (calls.incrementAndGet() == 1) {
                  new CountDownLatch(1).await(); // interrupted by the timeout
                }
                return "second attempt";
              });
      Result<String, String> result = handle.await();
      assertThat(result).isInstanceOfSatisfying(
          Result.Success.class, s -> assertThat(s.value()).isEqualTo("second attempt"));
      assertThat(result.attempts()).isEqualTo(2);
      assertThat(pool.status().retried()).isEqualTo(1);
    }
  }

  @Test
  void timeoutsOnEveryAttemptEndAsTaskTimeout() throws Exception {
    try (WorkerPool pool =
        WorkerPool.builder(
                ParallelConfig.builder().concurrency(1).taskTimeout(Duration.ofMillis(50)).build())
            .retryPolicy(NO_WAIT)
            .build()) {
      Result<String, String> result =
          pool.<String, String>submit(
                  "k",
                  key -> {
                    new CountDownLatch(1).await();
                    return key;
                  })
              .await();
      assertThat(result).isInstanceOfSatisfying(
          Result.Failure.class, f -> assertThat(f.error()).isInstanceOf(TaskTimeoutException.class));
      assertThat(result.attempts()).isEqualTo(3);
    }
  }

  @Test
  void cancellingDuringABackoffStopsRetrying() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (WorkerPool pool =
        WorkerPool.builder(ParallelConfig.builder().concurrency(1).build())
            .retryPolicy(
                RetryPolicy.builder().maxAttempts(5).backoff(Backoff.fixed(Duration.ofMinutes(1))).build())
            .build()) {
      TaskHandle<String, String> handle =
          pool.submit(
              "k",
              key -> {
                calls.incrementAndGet();
                throw new IllegalStateException("fails");
              });
      org.awaitility.Awaitility.await().until(() -> calls.get() == 1 && pool.status().retried() == 1);
      handle.cancel();
      assertThat(handle.await().isCancelled()).isTrue();
      org.awaitility.Awaitility.await().until(() -> pool.status().active() == 0);
      assertThat(calls.get()).isEqualTo(1);
    }
  }

  @Test
  void configSpacingSeparatesStarts() throws Exception {
    ConcurrentLinkedQueue<Long> starts = new ConcurrentLinkedQueue<>();
    long spacing = Duration.ofMillis(40).toNanos();
    long begin = System.nanoTime();
    try (WorkerPool pool =
        WorkerPool.create(
            ParallelConfig.builder().concurrency(8).rateSpacing(Duration.ofNanos(spacing)).build())) {
      pool.fanOutAndWait(
          IntStream.range(0, 6).boxed().toList(),
          key -> {
            starts.add(System.nanoTime());
            return key;
          });
    }
    List<Long> sorted = new ArrayList<>(starts);
    sorted.sort(Long::compare);
    // The gate grants the k-th permit no earlier than k spacings after the first could be had,
    // and a task starts no earlier than its grant; a thread that wakes late only starts later.
    // So the k-th start (in time order) is at least k spacings after the fan-out began.
    for (int k = 0; k < sorted.size(); k++) {
      assertThat(sorted.get(k) - begin).as("start %d", k).isGreaterThanOrEqualTo(k * spacing);
    }
  }

  @Test
  void eachKeyPassesItsOwnGate() throws Exception {
    Map<String, CountingGate> gates = new ConcurrentHashMap<>();
    try (WorkerPool pool =
        WorkerPool.builder(ParallelConfig.builder().concurrency(4).build())
            .rateGates(key -> gates.computeIfAbsent(((String) key).substring(0, 1), r -> new CountingGate()))
            .build()) {
      pool.fanOutAndWait(List.of("a1", "a2", "a3", "b1"), key -> key);
    }
    assertThat(gates.get("a").acquired.get()).isEqualTo(3);
    assertThat(gates.get("b").acquired.get()).isEqualTo(1);
  }

  @Test
  void presetsBuildARetryingPool() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (WorkerPool pool =
        WorkerPool.builder(ParallelConfig.defaults().toBuilder().rateSpacing(Duration.ZERO).build())
            .build()) {
      Result<String, Integer> result =
          pool.<String, Integer>submit(
                  "k",
                  key -> {
                    if (calls.incrementAndGet() == 1) {
                      throw new java.io.IOException("reset");
                    }
                    return calls.get();
                  })
              .await();
      assertThat(result.isSuccess()).isTrue();
      assertThat(result.attempts()).isEqualTo(2); // after the preset's 1 s backoff
    }
  }
}
