package dev.fanout.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fanout.time.FakeTime;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.helpers.MessageFormatter;

class RetryPolicyTest {
  private final FakeTime time = FakeTime.autoAdvancing();

  /** A policy on the fake clock, no jitter: 100 ms, 200 ms, 400 ms ...; throttles 500 ms, 1 s ... */
  private RetryPolicy.Builder policy() {
    return RetryPolicy.builder()
        .ticker(time)
        .sleeper(time)
        .backoff(Backoff.exponential(Duration.ofMillis(100), 2, Duration.ofSeconds(10)))
        .throttleBackoff(Backoff.exponential(Duration.ofMillis(500), 2, Duration.ofSeconds(20)));
  }

  /** A task that plays a script: each step throws the given throwable or returns the value. */
  private static final class Script<T> implements Callable<T> {
    private final Deque<Object> steps;
    final AtomicInteger calls = new AtomicInteger();

    Script(Object... steps) {
      this.steps = new ArrayDeque<>(Arrays.asList(steps));
    }

    @Override
    @SuppressWarnings("unchecked")
    public T call() throws Exception {
      calls.incrementAndGet();
      Object step = steps.size() > 1 ? steps.poll() : steps.peek();
      if (step instanceof Exception e) {
        throw e;
      }
      if (step instanceof Error e) {
        throw e;
      }
      return step == NULL ? null : (T) step;
    }
  }

  private static final Object NULL = new Object();

  private static ThrottledException throttled() {
    return new ThrottledException("429 Too Many Requests");
  }

  @Nested
  class HappyPath {
    @Test
    void callsOnceAndReturnsTheValue() throws Exception {
      Script<String> task = new Script<>("ok");
      assertThat(policy().build().call(task)).isEqualTo("ok");
      assertThat(task.calls).hasValue(1);
      assertThat(time.sleeps()).isEmpty();
    }

    @Test
    void executeReportsOneAttempt() {
      Outcome<String> outcome = policy().build().execute(new Script<>("ok"));
      assertThat(outcome).isInstanceOf(Outcome.Success.class);
      assertThat(outcome.attempts()).isEqualTo(1);
      assertThat(outcome.throttles()).isZero();
      assertThat(((Outcome.Success<String>) outcome).value()).isEqualTo("ok");
    }

    @Test
    void runRunsARunnable() throws Exception {
      AtomicInteger runs = new AtomicInteger();
      policy().build().run(runs::incrementAndGet);
      assertThat(runs).hasValue(1);
    }
  }

  @Nested
  class NormalRetries {
    @Test
    void retriesWithBackoffUntilSuccess() throws Exception {
      Script<String> task = new Script<>(new IOException("a"), new IOException("b"), "ok");
      Outcome<String> outcome = policy().build().execute(task);
      assertThat(outcome).isEqualTo(new Outcome.Success<>("ok", 3, 0));
      assertThat(time.waits()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
    }

    @Test
    void exhaustedAttemptsThrowTheLastErrorUnwrappedWithEarlierOnesSuppressed() {
      IOException first = new IOException("first");
      IOException second = new IOException("second");
      IOException last = new IOException("last");
      Script<String> task = new Script<>(first, second, last);

      assertThatThrownBy(() -> policy().maxAttempts(3).build().call(task))
          .isSameAs(last)
          .satisfies(e -> assertThat(e.getSuppressed()).containsExactly(first, second));
      assertThat(task.calls).hasValue(3);
    }

    @Test
    void executeReportsExhaustionWithTheLastError() {
      IOException last = new IOException("last");
      Outcome<String> outcome =
          policy().maxAttempts(2).build().execute(new Script<>(new IOException("x"), last));
      assertThat(outcome)
          .isInstanceOfSatisfying(
              Outcome.Failure.class,
              f -> {
                assertThat(f.error()).isSameAs(last);
                assertThat(f.reason()).isEqualTo(Outcome.Reason.ATTEMPTS_EXHAUSTED);
                assertThat(f.attempts()).isEqualTo(2);
              });
    }

    @Test
    void theSameExceptionInstanceThrownEveryTimeDoesNotSuppressItself() {
      IOException shared = new IOException("shared");
      RetryPolicy p = policy().maxAttempts(4).build();
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(() -> p.call(new Script<>(shared))).isSameAs(shared);
      }
      assertThat(shared.getSuppressed()).isEmpty();
    }

    @Test
    void notRetryableFailuresEndAtOnce() {
      IllegalStateException bug = new IllegalStateException("bug");
      Script<String> task = new Script<>(bug);
      RetryPolicy p = policy().retryOn(e -> e instanceof IOException).build();
      assertThatThrownBy(() -> p.call(task)).isSameAs(bug);
      assertThat(task.calls).hasValue(1);
      assertThat(p.execute(task))
          .isInstanceOfSatisfying(
              Outcome.Failure.class,
              f -> assertThat(f.reason()).isEqualTo(Outcome.Reason.NOT_RETRYABLE));
    }

    @Test
    void errorsAreNotRetriedByDefaultAndExecuteNeverThrows() {
      AssertionError error = new AssertionError("boom");
      Script<String> task = new Script<>(error);
      RetryPolicy p = policy().build();
      assertThatThrownBy(() -> p.call(task)).isSameAs(error);
      Outcome<String> outcome = p.execute(task);
      assertThat(outcome)
          .isInstanceOfSatisfying(Outcome.Failure.class, f -> assertThat(f.error()).isSameAs(error));
      assertThat(task.calls).hasValue(2);
    }

    @Test
    void retriesOnResultAndReturnsTheLastValueWhenNoAttemptIsLeft() throws Exception {
      RetryPolicy p = policy().maxAttempts(3).retryOnResult(v -> v == null || v.equals("")).build();
      Script<String> task = new Script<>(NULL, "", "done");
      assertThat(p.call(task)).isEqualTo("done");
      assertThat(task.calls).hasValue(3);

      Script<String> never = new Script<>("");
      Outcome<String> outcome = p.execute(never);
      assertThat(outcome).isInstanceOf(Outcome.Success.class);
      assertThat(outcome.attempts()).isEqualTo(3);
      assertThat(((Outcome.Success<String>) outcome).value()).isEmpty();
    }

    @Test
    void maxElapsedTimeStopsARetryWhoseWaitWouldPassIt() {
      RetryPolicy p =
          policy()
              .maxAttempts(100)
              .backoff(Backoff.fixed(Duration.ofSeconds(1)))
              .maxElapsedTime(Duration.ofMillis(2500))
              .build();
      IOException error = new IOException("down");
      Outcome<String> outcome = p.execute(new Script<>(error));
      // attempts at t = 0 s, 1 s, 2 s; a third wait would end at 3 s > 2.5 s
      assertThat(outcome)
          .isInstanceOfSatisfying(
              Outcome.Failure.class,
              f -> {
                assertThat(f.reason()).isEqualTo(Outcome.Reason.ELAPSED_TIME_EXCEEDED);
                assertThat(f.attempts()).isEqualTo(3);
                assertThat(f.error()).isSameAs(error);
              });
    }

    @Test
    void maxElapsedTimeCountsTheTimeTasksTake() {
      RetryPolicy p =
          policy()
              .maxAttempts(100)
              .backoff(Backoff.fixed(Duration.ofMillis(100)))
              .maxElapsedTime(Duration.ofSeconds(1))
              .build();
      AtomicInteger calls = new AtomicInteger();
      Outcome<String> outcome =
          p.execute(
              () -> {
                calls.incrementAndGet();
                time.advance(Duration.ofMillis(400)); // a slow call
                throw new IOException("slow failure");
              });
      // 0-400 fail, wait to 500, 500-900 fail, 900+100 = 1000 <= 1000: wait, 1000-1400 fail: stop
      assertThat(calls).hasValue(3);
      assertThat(((Outcome.Failure<String>) outcome).reason())
          .isEqualTo(Outcome.Reason.ELAPSED_TIME_EXCEEDED);
    }
  }

  @Nested
  class Throttling {
    @Test
    void throttledAttemptsDoNotUseUpNormalAttempts() throws Exception {
      RetryPolicy p = policy().maxAttempts(2).maxThrottles(5).build();
      Script<String> task =
          new Script<>(throttled(), throttled(), throttled(), new IOException("reset"), "ok");
      Outcome<String> outcome = p.execute(task);
      assertThat(outcome).isEqualTo(new Outcome.Success<>("ok", 5, 3));
      assertThat(time.waits())
          .containsExactly(
              Duration.ofMillis(500), // throttle backoff 1
              Duration.ofSeconds(1), // throttle backoff 2
              Duration.ofSeconds(2), // throttle backoff 3
              Duration.ofMillis(100)); // normal backoff 1
    }

    @Test
    void normalAttemptsAreCountedAroundThrottles() {
      RetryPolicy p = policy().maxAttempts(2).maxThrottles(5).build();
      IOException last = new IOException("second normal failure");
      Script<String> task =
          new Script<>(new IOException("first"), throttled(), throttled(), last, "never reached");
      Outcome<String> outcome = p.execute(task);
      assertThat(outcome)
          .isInstanceOfSatisfying(
              Outcome.Failure.class,
              f -> {
                assertThat(f.error()).isSameAs(last);
                assertThat(f.reason()).isEqualTo(Outcome.Reason.ATTEMPTS_EXHAUSTED);
                assertThat(f.attempts()).isEqualTo(4);
                assertThat(f.throttles()).isEqualTo(2);
              });
    }

    @Test
    void throttlingHasItsOwnCap() {
      RetryPolicy p = policy().maxAttempts(1).maxThrottles(3).build();
      ThrottledException last = throttled();
      Script<String> task = new Script<>(throttled(), throttled(), throttled(), last);
      assertThatThrownBy(() -> p.call(task)).isSameAs(last);
      assertThat(task.calls).hasValue(4);
      assertThat(p.execute(new Script<>(throttled())))
          .isInstanceOfSatisfying(
              Outcome.Failure.class,
              f -> {
                assertThat(f.reason()).isEqualTo(Outcome.Reason.THROTTLES_EXHAUSTED);
                assertThat(f.throttles()).isEqualTo(4);
              });
    }

    @Test
    void throttlingIsFoundInTheCauseChainByDefault() throws Exception {
      RetryPolicy p = policy().maxAttempts(1).build();
      Script<String> task =
          new Script<>(new UncheckedIOException(new IOException(throttled())), "ok");
      assertThat(p.call(task)).isEqualTo("ok");
    }

    @Test
    void aCustomClassifierMarksThrottling() throws Exception {
      RetryPolicy p =
          policy()
              .maxAttempts(1)
              .throttledWhen(e -> e.getMessage() != null && e.getMessage().contains("429"))
              .build();
      assertThat(p.call(new Script<String>(new IOException("HTTP 429"), "ok"))).isEqualTo("ok");
    }

    @Test
    void aServerHintIsWaitedAtLeast() throws Exception {
      RetryPolicy p = policy().build();
      p.call(
          new Script<>(
              new ThrottledException("slow down", Duration.ofSeconds(7), null),
              new HintedIOException(Duration.ofSeconds(3)),
              new HintedIOException(Duration.ofMillis(1)),
              "ok"));
      assertThat(time.waits())
          .containsExactly(
              Duration.ofSeconds(7), // hint beats the 500 ms throttle backoff
              Duration.ofSeconds(3), // hint beats the 100 ms backoff
              Duration.ofMillis(200)); // backoff beats the 1 ms hint
    }

    @Test
    void aHintOfHoursIsCutToMaxRetryAfterAndTheOutcomeSaysSo() {
      List<RetryEvent> events = new java.util.ArrayList<>();
      RetryPolicy p = policy().listener(events::add).build();
      assertThat(p.maxRetryAfter()).isEqualTo(Duration.ofMinutes(1));
      Outcome<String> outcome =
          p.execute(
              new Script<>(
                  new HintedIOException(Duration.ofHours(3)),
                  new HintedIOException(Duration.ofSeconds(2)),
                  "ok"));
      assertThat(time.waits()).containsExactly(Duration.ofMinutes(1), Duration.ofSeconds(2));
      assertThat(outcome).isEqualTo(new Outcome.Success<>("ok", 3, 0, 1));
      assertThat(outcome.cutHints()).isEqualTo(1);
      assertThat(events).extracting(RetryEvent::cutHint).containsExactly(Duration.ofHours(3), null);
    }

    @Test
    void theHintCapIsConfigurableAndValidated() {
      RetryPolicy p = policy().maxRetryAfter(Duration.ofHours(4)).maxAttempts(2).build();
      Outcome<String> outcome = p.execute(new Script<>(new HintedIOException(Duration.ofHours(3)), "ok"));
      assertThat(time.waits()).containsExactly(Duration.ofHours(3));
      assertThat(outcome.cutHints()).isZero();
      assertThatThrownBy(() -> RetryPolicy.builder().maxRetryAfter(Duration.ofSeconds(-1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("maxRetryAfter must not be negative, was PT-1S");
    }

    @Test
    void aHintCanBeReadFromForeignExceptions() throws Exception {
      RetryPolicy p =
          policy()
              .retryAfter(
                  e ->
                      e.getMessage().startsWith("retry-after=")
                          ? Optional.of(Duration.ofSeconds(Long.parseLong(e.getMessage().substring(12))))
                          : Optional.empty())
              .build();
      p.call(new Script<>(new IOException("retry-after=42"), "ok"));
      assertThat(time.waits()).containsExactly(Duration.ofSeconds(42));
    }
  }

  static final class HintedIOException extends IOException implements RetryAfter {
    private final Duration hint;

    HintedIOException(Duration hint) {
      super("hinted " + hint);
      this.hint = hint;
    }

    @Override
    public Optional<Duration> retryAfter() {
      return Optional.of(hint);
    }
  }

  @Nested
  class Budget {
    @Test
    void exhaustionFailsFastWithAClearMessageAndTheLastErrorAsCause() {
      RetryBudget budget =
          RetryBudget.builder().name("aws").capacity(10).retryCost(5).successRefill(1).build();
      RetryPolicy p = policy().maxAttempts(10).budget(budget).build();
      IOException last = new IOException("connection refused #3");
      Script<String> task =
          new Script<>(new IOException("#1"), new IOException("#2"), last);

      assertThatThrownBy(() -> p.call(task))
          .isInstanceOf(RetryBudgetExhaustedException.class)
          .hasMessage(
              "retry budget 'aws' is spent (0 of 10 tokens left, a retry costs 5): not retrying"
                  + " after attempt 3: java.io.IOException: connection refused #3")
          .hasCause(last)
          .satisfies(e -> assertThat(((RetryBudgetExhaustedException) e).attempts()).isEqualTo(3))
          .satisfies(e -> assertThat(e.getStackTrace()).isEmpty());
      assertThat(task.calls).hasValue(3);

      // The next failing call does not retry at all.
      Script<String> next = new Script<>(new IOException("again"));
      Outcome<String> outcome = p.execute(next);
      assertThat(next.calls).hasValue(1);
      assertThat(outcome)
          .isInstanceOfSatisfying(
              Outcome.Failure.class,
              f -> {
                assertThat(f.reason()).isEqualTo(Outcome.Reason.BUDGET_EXHAUSTED);
                assertThat(f.error()).isInstanceOf(RetryBudgetExhaustedException.class);
              });
    }

    @Test
    void successesRefillTheBudget() throws Exception {
      RetryBudget budget = RetryBudget.builder().capacity(5).retryCost(5).successRefill(1).build();
      RetryPolicy p = policy().maxAttempts(3).budget(budget).build();
      assertThat(p.call(new Script<String>(new IOException("x"), "ok"))).isEqualTo("ok");
      assertThat(budget.available()).isEqualTo(5); // spent 5, the successful retry refunds 5
      assertThat(budget.tryAcquireRetry()).isTrue();
      for (int i = 0; i < 4; i++) {
        p.call(new Script<>("ok"));
      }
      assertThat(budget.available()).isEqualTo(4);
      p.call(new Script<>("ok"));
      assertThat(budget.available()).isEqualTo(5);
    }

    @Test
    void throttledRetriesAreBudgetedToo() {
      RetryBudget budget = RetryBudget.builder().capacity(2).retryCost(1).build();
      RetryPolicy p = policy().maxThrottles(100).budget(budget).build();
      Script<String> task = new Script<>(throttled());
      assertThat(p.execute(task))
          .isInstanceOfSatisfying(
              Outcome.Failure.class,
              f -> assertThat(f.reason()).isEqualTo(Outcome.Reason.BUDGET_EXHAUSTED));
      assertThat(task.calls).hasValue(3);
    }
  }

  @Nested
  class Interruption {
    @Test
    void anInterruptDuringABackoffEndsTheCallPromptlyAsInterrupted() throws Exception {
      FakeTime manual = FakeTime.manual();
      RetryPolicy p =
          RetryPolicy.builder()
              .ticker(manual)
              .sleeper(manual)
              .backoff(Backoff.fixed(Duration.ofHours(1)))
              .build();
      IOException error = new IOException("down");
      Script<String> task = new Script<>(error);
      AtomicReference<Throwable> thrown = new AtomicReference<>();
      Thread caller =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      p.call(task);
                    } catch (Throwable t) {
                      thrown.set(t);
                    }
                  });
      await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10)).until(() -> manual.sleepers() == 1);
      caller.interrupt();
      assertThat(caller.join(Duration.ofSeconds(10))).isTrue();
      assertThat(thrown.get())
          .isInstanceOf(InterruptedException.class)
          .satisfies(e -> assertThat(e.getSuppressed()).containsExactly(error));
      assertThat(task.calls).hasValue(1);
    }

    @Test
    void withTheRealSleeperTooAndExecuteKeepsTheInterruptStatus() throws Exception {
      RetryPolicy p = RetryPolicy.builder().backoff(Backoff.fixed(Duration.ofHours(1))).build();
      AtomicReference<Outcome<String>> outcome = new AtomicReference<>();
      AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
      Thread caller =
          Thread.ofPlatform()
              .start(
                  () -> {
                    outcome.set(p.execute(new Script<>(new IOException("down"))));
                    stillInterrupted.set(Thread.currentThread().isInterrupted());
                  });
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> caller.getState() == Thread.State.TIMED_WAITING);
      long start = System.nanoTime();
      caller.interrupt();
      assertThat(caller.join(Duration.ofSeconds(10))).isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      assertThat(outcome.get())
          .isInstanceOfSatisfying(
              Outcome.Failure.class,
              f -> {
                assertThat(f.reason()).isEqualTo(Outcome.Reason.INTERRUPTED);
                assertThat(f.error()).isInstanceOf(InterruptedException.class);
                assertThat(f.attempts()).isEqualTo(1);
              });
      assertThat(stillInterrupted.get()).isTrue();
    }

    @Test
    void aTaskThatIsInterruptedIsNotRetried() {
      Script<String> task = new Script<>(new InterruptedException("stop"));
      assertThatThrownBy(() -> policy().build().call(task))
          .isInstanceOf(InterruptedException.class)
          .hasMessage("stop");
      assertThat(task.calls).hasValue(1);

      AtomicInteger calls = new AtomicInteger();
      Outcome<Object> outcome =
          policy()
              .build()
              .execute(
                  () -> {
                    calls.incrementAndGet();
                    Thread.currentThread().interrupt(); // e.g. an I/O library saw the interrupt
                    throw new IOException("closed by interrupt");
                  });
      assertThat(Thread.interrupted()).isTrue();
      assertThat(calls).hasValue(1);
      assertThat(((Outcome.Failure<Object>) outcome).reason())
          .isEqualTo(Outcome.Reason.INTERRUPTED);
    }
  }

  @Nested
  class Listeners {
    @Test
    void seeEveryRetryBeforeItsWait() throws Exception {
      List<RetryEvent> policyEvents = new CopyOnWriteArrayList<>();
      List<RetryEvent> callEvents = new ArrayList<>();
      RetryPolicy p =
          policy()
              .maxAttempts(3)
              .listener(policyEvents::add)
              .listener(
                  e -> {
                    throw new IllegalStateException("a broken listener is ignored");
                  })
              .build();
      IOException io = new IOException("reset");
      ThrottledException slow = throttled();
      p.execute(new Script<>(io, slow, "ok"), callEvents::add);

      assertThat(policyEvents)
          .containsExactly(
              new RetryEvent(1, 1, 2, false, Duration.ofMillis(100), io, null),
              new RetryEvent(2, 1, 10, true, Duration.ofMillis(500), slow, null));
      assertThat(callEvents).isEqualTo(policyEvents);
    }

    @Test
    void theLoggingListenerSpeaksLikeTheCli() throws Exception {
      List<String> lines = new ArrayList<>();
      Logger logger = recordingLogger(lines);
      RetryPolicy p =
          RetryPolicy.ofRetries(3).toBuilder()
              .ticker(time)
              .sleeper(time)
              .listener(RetryListener.logging(logger))
              .build();
      p.call(new Script<>(new IOException("boom"), throttled(), NULL, "ok"));
      assertThat(lines.get(0)).isEqualTo("Retry 1/3 after 1s: java.io.IOException: boom");
      assertThat(lines.get(1))
          .startsWith("Throttled, retry 1/10 after ")
          .endsWith(": dev.fanout.retry.ThrottledException: 429 Too Many Requests");
      assertThat(lines).hasSize(2);
    }
  }

  private static Logger recordingLogger(List<String> lines) {
    return (Logger)
        Proxy.newProxyInstance(
            Logger.class.getClassLoader(),
            new Class<?>[] {Logger.class},
            (proxy, method, args) -> {
              if (method.getName().equals("isInfoEnabled")) {
                return true;
              }
              if (method.getName().equals("info") && args.length == 2 && args[1] instanceof Object[] a) {
                lines.add(MessageFormatter.arrayFormat((String) args[0], a).getMessage());
              }
              return method.getReturnType() == boolean.class ? false : null;
            });
  }

  @Nested
  class Factories {
    @Test
    void ofRetriesMirrorsTheCli() {
      RetryPolicy p = RetryPolicy.ofRetries(3).toBuilder().ticker(time).sleeper(time).build();
      assertThat(p.maxAttempts()).isEqualTo(4);
      Script<String> task = new Script<>(new IOException("down"));
      assertThatThrownBy(() -> p.call(task)).isInstanceOf(IOException.class);
      assertThat(task.calls).hasValue(4);
      assertThat(time.waits())
          .containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4));
    }

    @Test
    void noneMakesOneAttemptEvenWhenThrottled() {
      Script<String> task = new Script<>(throttled());
      assertThatThrownBy(() -> RetryPolicy.none().call(task))
          .isInstanceOf(ThrottledException.class);
      assertThat(task.calls).hasValue(1);
      assertThat(RetryPolicy.none().maxAttempts()).isEqualTo(1);
    }

    @Test
    void toBuilderKeepsEverything() {
      RetryPolicy p =
          policy().name("x").maxAttempts(7).maxThrottles(2).maxElapsedTime(Duration.ofMinutes(1)).build();
      RetryPolicy copy = p.toBuilder().build();
      assertThat(copy.toString()).isEqualTo(p.toString());
      assertThat(copy.maxElapsedTime()).isEqualTo(Duration.ofMinutes(1));
    }
  }

  @Test
  void publishesMetersByOutcome() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RetryPolicy p = policy().name("eks").maxAttempts(2).meterRegistry(registry).build();
    p.call(new Script<>("ok"));
    p.call(new Script<>(throttled(), new IOException("x"), "ok"));
    p.execute(new Script<>(new IOException("x")));
    p.toBuilder().retryOnResult(v -> v == null).build().call(new Script<>(NULL)); // same meters

    assertThat(count(registry, "fanout.retry.calls", "outcome", "success")).isEqualTo(1);
    assertThat(count(registry, "fanout.retry.calls", "outcome", "success_after_retry")).isEqualTo(1);
    assertThat(count(registry, "fanout.retry.calls", "outcome", "attempts_exhausted")).isEqualTo(2);
    assertThat(count(registry, "fanout.retry.retries", "kind", "result")).isEqualTo(1);
    assertThat(count(registry, "fanout.retry.retries", "kind", "throttled")).isEqualTo(1);
    assertThat(count(registry, "fanout.retry.retries", "kind", "failure")).isEqualTo(2);
    assertThat(registry.get("fanout.retry.throttles").tag("name", "eks").counter().count())
        .isEqualTo(1);
  }

  private static double count(SimpleMeterRegistry r, String name, String tag, String value) {
    return r.get(name).tag("name", "eks").tag(tag, value).counter().count();
  }

  @Test
  @SuppressWarnings({"DataFlowIssue", "removal"}) // the deprecated maxRetries is checked too
  void rejectsBadSettingsWithClearMessages() {
    assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxAttempts must be between 1 and 1000000, was 0");
    assertThatThrownBy(() -> RetryPolicy.builder().maxRetries(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxRetries must be between 0 and 999999, was -1");
    assertThatThrownBy(() -> RetryPolicy.ofRetries(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxRetries must be between 0 and 999999, was -1");
    assertThatThrownBy(() -> RetryPolicy.builder().maxThrottles(-2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxThrottles must be between 0 and 1000000, was -2");
    assertThatThrownBy(() -> RetryPolicy.builder().maxElapsedTime(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxElapsedTime must be positive (or null for none), was PT0S");
    assertThatThrownBy(() -> RetryPolicy.builder().backoff(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("backoff must not be null");
    assertThatThrownBy(() -> RetryPolicy.none().call(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("task must not be null");
    assertThatThrownBy(() -> new ThrottledException("x", Duration.ofSeconds(-1), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("retryAfter must not be negative, was PT-1S");
  }
}
