package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fanout.breaker.CircuitBreaker;
import dev.fanout.bulkhead.Bulkhead;
import dev.fanout.bulkhead.BulkheadFullException;
import dev.fanout.rate.RateGate;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryPolicy;
import dev.fanout.time.FakeTime;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PoliciesTest {
  private static final RetryPolicy THREE_QUICK =
      RetryPolicy.builder().maxAttempts(3).backoff(Backoff.fixed(Duration.ofMillis(1))).build();

  /** A gate that lets everything through and records who passed, in order. */
  static final class RecordingGate implements RateGate {
    final String name;
    final List<String> log;

    RecordingGate(String name, List<String> log) {
      this.name = name;
      this.log = log;
    }

    @Override
    public void acquire() {
      log.add(name);
    }

    @Override
    public boolean tryAcquire(Duration timeout) {
      acquire();
      return true;
    }

    @Override
    public boolean tryAcquire() {
      acquire();
      return true;
    }
  }

  @Test
  void mapRetriesReplacesEveryRetryInPlaceAndKeepsTheOtherPoliciesShared() throws Exception {
    CircuitBreaker breaker = CircuitBreaker.builder().consecutiveFailures(100).build();
    Policies<String> original =
        Policies.<String>builder()
            .retry(RetryPolicy.builder().name("outer").maxAttempts(3).backoff(Backoff.none()).build())
            .circuitBreaker(breaker)
            .retry(RetryPolicy.builder().name("inner").maxAttempts(2).backoff(Backoff.none()).build())
            .build();

    Policies<String> once = original.mapRetries(p -> p.toBuilder().maxAttempts(1).build());
    AtomicInteger calls = new AtomicInteger();
    Outcome<Object> outcome =
        once.execute(
            "k",
            () -> {
              calls.incrementAndGet();
              throw new IOException("down");
            });

    assertThat(outcome).isInstanceOf(Outcome.Failure.class);
    assertThat(calls.get()).isEqualTo(1); // 3 x 2 = 6 calls before the change
    assertThat(once.toString()).isEqualTo(
        "[retry(outer, 1 attempts), " + original.stages().get(1) + ", retry(inner, 1 attempts)]");
    assertThat(once.stages().get(1)).isSameAs(original.stages().get(1)); // the same breaker
    assertThat(original.mapRetries(p -> p.toBuilder().maxAttempts(1).build()).stages())
        .hasSize(3);
    Policies<String> noRetry = Policies.<String>builder().circuitBreaker(breaker).build();
    assertThat(noRetry.mapRetries(p -> p)).isSameAs(noRetry);
    assertThatThrownBy(() -> original.mapRetries(p -> null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("outer");
  }

  @Test
  void policiesApplyInTheOrderTheyWereAdded() throws Exception {
    List<String> log = new CopyOnWriteArrayList<>();
    AtomicInteger calls = new AtomicInteger();
    Policies<String> policies =
        Policies.<String>builder()
            .rateGate(new RecordingGate("outside", log))
            .retry(THREE_QUICK)
            .rateGate(new RecordingGate("inside", log))
            .build();

    String value =
        policies.call(
            "k",
            () -> {
              log.add("call");
              if (calls.incrementAndGet() < 3) {
                throw new IOException("not yet");
              }
              return "done";
            });

    assertThat(value).isEqualTo("done");
    // The gate outside the retry is passed once; the one inside, by every attempt.
    assertThat(log).containsExactly("outside", "inside", "call", "inside", "call", "inside", "call");
    assertThat(policies.toString()).startsWith("[rateGate(").contains("retry(").endsWith(")]");
  }

  @Test
  void executeCountsTheCallsMadeAndKeepsTheRetrysReason() {
    Policies<String> policies = Policies.<String>builder().retry(THREE_QUICK).build();
    IOException last = new IOException("third");
    AtomicInteger calls = new AtomicInteger();

    Outcome<String> outcome =
        policies.execute(
            "k",
            () -> {
              throw calls.incrementAndGet() == 3 ? last : new IOException("earlier");
            });

    assertThat(outcome).isInstanceOf(Outcome.Failure.class);
    Outcome.Failure<String> failure = (Outcome.Failure<String>) outcome;
    assertThat(failure.error()).isSameAs(last);
    assertThat(failure.attempts()).isEqualTo(3);
    assertThat(failure.reason()).isEqualTo(Outcome.Reason.ATTEMPTS_EXHAUSTED);

    Outcome<String> ok = Policies.<String>none().execute("k", () -> "v");
    assertThat(ok).isEqualTo(new Outcome.Success<>("v", 1, 0, 0));
  }

  @Test
  void callRethrowsWhatTheCallThrewAsItIs() {
    Policies<String> policies = Policies.<String>builder().retry(RetryPolicy.none()).build();
    IOException checked = new IOException("checked");
    StackOverflowError error = new StackOverflowError("error");

    assertThatThrownBy(() -> policies.call("k", () -> {
          throw checked;
        }))
        .isSameAs(checked);
    assertThatThrownBy(() -> policies.call("k", () -> {
          throw error;
        }))
        .isSameAs(error);
  }

  @Test
  void anAttemptThatOverrunsIsInterruptedAndFailsWithATimeoutAndTheTimerThreadEnds()
      throws Exception {
    Policies<String> policies =
        Policies.<String>builder().attemptTimeout(Duration.ofMillis(100)).build();
    CountDownLatch never = new CountDownLatch(1);

    assertThatThrownBy(() -> policies.call("slow", () -> never.await(1, java.util.concurrent.TimeUnit.HOURS)))
        .isInstanceOf(TaskTimeoutException.class)
        .hasMessageContaining("slow")
        .satisfies(e -> assertThat(e.getSuppressed()).hasAtLeastOneElementOfType(InterruptedException.class));
    assertThat(Thread.currentThread().isInterrupted())
        .as("the timeout's interrupt is not left behind")
        .isFalse();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Thread.getAllStackTraces().keySet().stream()
            .noneMatch(t -> t.getName().startsWith("fanout-timer-")));
  }

  @Test
  void anAttemptThatRanTooLongByTheTickerFailsEvenIfTheTimerNeverFired() {
    FakeTime time = FakeTime.manual();
    Policies<String> policies =
        Policies.<String>builder().attemptTimeout(Duration.ofSeconds(1)).ticker(time).build();

    Outcome<String> outcome =
        policies.execute(
            "k",
            () -> {
              time.advance(Duration.ofSeconds(2).toNanos()); // the timer thread saw no real time
              return "too late";
            });

    assertThat(outcome).isInstanceOf(Outcome.Failure.class);
    assertThat(((Outcome.Failure<String>) outcome).error()).isInstanceOf(TaskTimeoutException.class);
  }

  @Test
  void aTimeoutInsideTheRetryBoundsEachAttemptAndTheNextOneMaySucceed() {
    FakeTime time = FakeTime.manual();
    Policies<String> policies =
        Policies.<String>builder()
            .retry(THREE_QUICK)
            .attemptTimeout(Duration.ofSeconds(1))
            .ticker(time)
            .build();
    AtomicInteger calls = new AtomicInteger();

    Outcome<String> outcome =
        policies.execute(
            "k",
            () -> {
              if (calls.incrementAndGet() == 1) {
                time.advance(Duration.ofSeconds(5).toNanos());
              }
              return "attempt " + calls.get();
            });

    assertThat(outcome).isEqualTo(new Outcome.Success<>("attempt 2", 2, 0, 0));
  }

  @Test
  void anInterruptedCallEndsAsInterruptedWithTheFlagSetAgain() {
    RateGate blocking =
        new RateGate() {
          @Override
          public void acquire() throws InterruptedException {
            new CountDownLatch(1).await();
          }

          @Override
          public boolean tryAcquire(Duration timeout) {
            return false;
          }

          @Override
          public boolean tryAcquire() {
            return false;
          }
        };
    Policies<String> policies = Policies.<String>builder().rateGate(blocking).build();

    Thread.currentThread().interrupt();
    Outcome<String> outcome = policies.execute("k", () -> "unreached");

    assertThat(Thread.interrupted()).as("interrupt status set again").isTrue();
    assertThat(outcome).isInstanceOf(Outcome.Failure.class);
    Outcome.Failure<String> failure = (Outcome.Failure<String>) outcome;
    assertThat(failure.reason()).isEqualTo(Outcome.Reason.INTERRUPTED);
    assertThat(failure.attempts()).as("the call itself was never made").isZero();
  }

  @Test
  void aPoolRunsEveryTaskThroughItsPoliciesAndAKeyedGateSeesTheTasksKey() throws Exception {
    Map<String, AtomicInteger> passed = new ConcurrentHashMap<>();
    Policies<String> policies =
        Policies.<String>builder()
            .retry(THREE_QUICK)
            .rateGates(
                key -> {
                  passed.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                  return RateGate.unlimited();
                })
            .build();
    Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

    try (WorkerPool pool =
        WorkerPool.builder(ParallelConfig.defaults()).policies(policies).build()) {
      FanOutReport<String, String> report =
          pool.fanOutAndWait(
              List.of("a", "b"),
              key -> {
                if (calls.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet() == 1
                    && key.equals("b")) {
                  throw new IOException("b fails once");
                }
                return key.toUpperCase();
              });
      assertThat(report.values()).containsEntry("a", "A").containsEntry("b", "B");
      assertThat(report.successes().get("a").attempts()).isEqualTo(1);
      assertThat(report.successes().get("b").attempts()).isEqualTo(2);
    }
    assertThat(passed.get("a")).hasValue(1);
    assertThat(passed.get("b")).as("every attempt passes the key's gate").hasValue(2);
  }

  @Test
  void aRetryAroundABreakerWaitsOutTheOpenBreakerAndTheTrialCallCloses() {
    FakeTime time = FakeTime.autoAdvancing();
    CircuitBreaker breaker =
        CircuitBreaker.builder()
            .name("eks")
            .consecutiveFailures(2)
            .openDuration(Duration.ofSeconds(10))
            .halfOpenCalls(1)
            .ticker(time)
            .build();
    RetryPolicy retry =
        RetryPolicy.builder()
            .maxAttempts(4)
            .backoff(Backoff.fixed(Duration.ofMillis(1)))
            .ticker(time)
            .sleeper(time)
            .build();
    Policies<String> policies = Policies.<String>builder().retry(retry).circuitBreaker(breaker).build();
    AtomicInteger calls = new AtomicInteger();

    Outcome<String> outcome =
        policies.execute(
            "k",
            () -> {
              if (calls.incrementAndGet() <= 2) {
                throw new IOException("down");
              }
              return "up";
            });

    // Two failures open the breaker; the third attempt (1 ms later) is refused without a call
    // and the retry waits the breaker's remaining open time, its hint; the fourth attempt is the
    // trial call, exactly when the breaker half-opens, and succeeds.
    assertThat(outcome).isEqualTo(new Outcome.Success<>("up", 3, 0, 0));
    assertThat(time.waits())
        .containsExactly(Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofMillis(9_999));
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void aFullBulkheadRefusesTheCallThatFindsNoRoom() throws Exception {
    Bulkhead bulkhead = Bulkhead.of(1);
    Policies<String> policies = Policies.<String>builder().bulkhead(bulkhead).build();
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread holder =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    policies.call("a", () -> {
                      inside.countDown();
                      return release.await(10, java.util.concurrent.TimeUnit.SECONDS);
                    });
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                });
    inside.await();

    assertThatThrownBy(() -> policies.call("b", () -> "no room"))
        .isInstanceOf(BulkheadFullException.class);
    release.countDown();
    holder.join();
    assertThat(policies.call("c", () -> "room again")).isEqualTo("room again");
    assertThat(bulkhead.available()).isEqualTo(1);
  }

  @Test
  void badInputIsRefusedNamingTheParameter() {
    assertThatThrownBy(() -> Policies.builder().attemptTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("attemptTimeout")
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> Policies.builder().retry(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("retry");
    assertThatThrownBy(
            () ->
                WorkerPool.builder(ParallelConfig.defaults())
                    .policies(Policies.none())
                    .retryPolicy(RetryPolicy.none())
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("policies");
  }

  @Test
  void theConfigsPoliciesAreTheDefaultOrder() {
    Policies<Object> policies =
        ParallelConfig.defaults().toBuilder().taskTimeout(Duration.ofSeconds(30)).build().policies();
    assertThat(policies.toString())
        .matches("\\[retry\\(.*4 attempts\\), rateGate\\(.*\\), attemptTimeout\\(PT30S\\)\\]");
  }
}
