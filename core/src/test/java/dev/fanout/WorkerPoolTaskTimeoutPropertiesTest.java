package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryPolicy;
import dev.fanout.time.AdversarialTime;
import dev.fanout.time.FakeTime;
import dev.fanout.time.Ticker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The per-attempt timeout is decided on the pool's {@link WorkerPool.Builder#ticker ticker}: an
 * attempt succeeds if and only if it ran no longer than {@link ParallelConfig#taskTimeout()} by
 * that clock, whatever its timer did (here it never fires: the tasks take no real time), and no
 * attempt reported successful ran longer than the timeout as an observer saw it, even when other
 * tasks move the clock meanwhile and it jumps.
 */
class WorkerPoolTaskTimeoutPropertiesTest {
  /** Long enough that the real timer never fires while the tasks, which take no real time, run. */
  private static final Duration TIMEOUT = Duration.ofMinutes(10);

  private static final long T = TIMEOUT.toNanos();

  /** A clock per thread: the worker running an attempt reads only the time its own task took. */
  static final class PerThreadClock implements Ticker {
    private final ThreadLocal<long[]> now = ThreadLocal.withInitial(() -> new long[] {1_000_000_000_000L});

    @Override
    public long read() {
      return now.get()[0];
    }

    void advance(long nanos) {
      now.get()[0] += nanos;
    }
  }

  /** One attempt of a task: how long it runs by the pool's clock, and whether it then throws. */
  record Attempt(long nanos, boolean fails) {}

  @Provide
  Arbitrary<Attempt> attempts() {
    // Half at the boundary (within a few nanoseconds of the timeout), half anywhere up to twice it.
    Arbitrary<Long> nanos =
        Arbitraries.oneOf(Arbitraries.longs().between(T - 3, T + 3), Arbitraries.longs().between(0, 2 * T));
    Arbitrary<Boolean> fails = Arbitraries.frequency(Tuple.of(4, false), Tuple.of(1, true));
    return Combinators.combine(nanos, fails).as(Attempt::new);
  }

  private static WorkerPool pool(int concurrency, int maxAttempts, Ticker ticker) {
    FakeTime retryTime = FakeTime.autoAdvancing();
    return WorkerPool.builder(
            ParallelConfig.builder()
                .concurrency(concurrency)
                .taskTimeout(TIMEOUT)
                .rateSpacing(Duration.ZERO)
                .maxAttempts(maxAttempts)
                .build())
        .retryPolicy(
            RetryPolicy.builder()
                .maxAttempts(maxAttempts)
                .backoff(Backoff.none())
                .ticker(retryTime)
                .sleeper(retryTime)
                .build())
        .ticker(ticker)
        .build();
  }

  @Property(tries = 60)
  void anAttemptSucceedsIfAndOnlyIfItRanNoLongerThanTheTimeout(
      @ForAll @Size(min = 1, max = 10) List<@Size(value = 4) List<@From("attempts") Attempt>> scripts,
      @ForAll @IntRange(min = 1, max = 4) int concurrency,
      @ForAll @IntRange(min = 1, max = 4) int maxAttempts)
      throws Exception {
    PerThreadClock clock = new PerThreadClock();
    List<Integer> keys = IntStream.range(0, scripts.size()).boxed().toList();
    Map<Integer, Integer> calls = new ConcurrentHashMap<>();
    FanOutReport<Integer, String> report;
    try (WorkerPool pool = pool(concurrency, maxAttempts, clock)) {
      report =
          pool.fanOutAndWait(
              keys,
              key -> {
                int n = calls.merge(key, 1, Integer::sum) - 1;
                Attempt attempt = scripts.get(key).get(n);
                clock.advance(attempt.nanos());
                if (attempt.fails()) {
                  throw new IllegalStateException("attempt " + (n + 1) + " of " + key + " failed");
                }
                return key + "@" + (n + 1);
              });
    }

    assertThat(report.successes().size() + report.failures().size()).isEqualTo(keys.size());
    for (int key : keys) {
      List<Attempt> script = scripts.get(key).subList(0, maxAttempts);
      int firstGood = -1;
      for (int i = 0; i < script.size(); i++) {
        if (script.get(i).nanos() <= T && !script.get(i).fails()) {
          firstGood = i;
          break;
        }
      }
      if (firstGood >= 0) {
        int attempts = firstGood + 1;
        assertThat(report.successes().get(key))
            .as("key %d: first attempt within the timeout that did not throw is %d of %s", key, attempts, script)
            .isNotNull()
            .satisfies(
                s -> {
                  assertThat(s.value()).isEqualTo(key + "@" + attempts);
                  assertThat(s.attempts()).isEqualTo(attempts);
                });
        continue;
      }
      Result.Failure<Integer, String> failure = report.failures().get(key);
      assertThat(failure).as("key %d: no attempt of %s could succeed", key, script).isNotNull();
      assertThat(failure.attempts()).isEqualTo(maxAttempts);
      Attempt last = script.get(maxAttempts - 1);
      if (last.nanos() > T) {
        assertThat(failure.error())
            .as("key %d: its last attempt ran %d ns over the timeout", key, last.nanos() - T)
            .isInstanceOf(TaskTimeoutException.class);
        if (last.fails()) {
          assertThat(failure.error().getSuppressed())
              .singleElement()
              .satisfies(e -> assertThat(e).isInstanceOf(IllegalStateException.class));
        }
      } else {
        assertThat(failure.error())
            .as("key %d: its last attempt ran within the timeout and threw", key)
            .isInstanceOf(IllegalStateException.class)
            .hasMessage("attempt " + maxAttempts + " of " + key + " failed");
      }
    }
  }

  @Property(tries = 60)
  void noSuccessfulAttemptRanLongerThanTheTimeoutAsObservedUnderAHostileSharedClock(
      @ForAll @Size(min = 2, max = 16) List<@Size(value = 3) List<@IntRange(min = 0, max = 200) Integer>> percents,
      @ForAll @IntRange(min = 2, max = 6) int concurrency,
      @ForAll @IntRange(min = 1, max = 3) int maxAttempts,
      @ForAll long seed)
      throws Exception {
    // Every reading may find the clock jumped, and other workers' tasks move it too: an attempt's
    // running time on this clock is at least what its own task saw.
    AdversarialTime time = AdversarialTime.random(seed, 0, T / 4);
    List<Integer> keys = IntStream.range(0, percents.size()).boxed().toList();
    Map<Integer, List<long[]>> runs = new ConcurrentHashMap<>();
    FanOutReport<Integer, String> report;
    try (WorkerPool pool = pool(concurrency, maxAttempts, time)) {
      report =
          pool.fanOutAndWait(
              keys,
              key -> {
                List<long[]> mine = runs.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>());
                long entry = time.peek();
                time.advance(T / 100 * percents.get(key).get(mine.size()));
                mine.add(new long[] {entry, time.peek()});
                return key + "@" + mine.size();
              });
    }

    assertThat(report.successes().size() + report.failures().size()).isEqualTo(keys.size());
    for (int key : keys) {
      List<long[]> mine = runs.get(key);
      Result<Integer, String> result =
          report.successes().containsKey(key) ? report.successes().get(key) : report.failures().get(key);
      assertThat(result.attempts()).as("key %d attempts", key).isEqualTo(mine.size());
      for (int i = 0; i < mine.size(); i++) {
        long ran = mine.get(i)[1] - mine.get(i)[0];
        boolean last = i == mine.size() - 1;
        if (ran > T) {
          assertThat(last && result instanceof Result.Success)
              .as("key %d attempt %d ran %d ns over the timeout yet succeeded", key, i + 1, ran - T)
              .isFalse();
        }
      }
      if (result instanceof Result.Failure<Integer, String> f) {
        assertThat(f.error()).as("key %d", key).isInstanceOf(TaskTimeoutException.class);
      } else {
        assertThat(((Result.Success<Integer, String>) result).value()).isEqualTo(key + "@" + mine.size());
      }
    }
  }
}
