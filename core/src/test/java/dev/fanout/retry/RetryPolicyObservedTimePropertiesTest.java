package dev.fanout.retry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.time.AdversarialTime;
import dev.fanout.time.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * What a {@link RetryPolicy} promises holds on the times its callers and their servers observe,
 * under time that misbehaves ({@link AdversarialTime}: sleeps that overshoot or end early, a clock
 * that jumps forward): every wait is at least the delay the policy announced, hints are honoured
 * up to {@code maxRetryAfter} and cut beyond, no attempt starts past {@code maxElapsedTime}, the
 * attempt caps hold, and a shared budget never pays for more retries than its tokens allow.
 */
class RetryPolicyObservedTimePropertiesTest {
  private static final long MS = 1_000_000L;

  /** What one attempt of a scripted task does. */
  enum Kind {
    /** Throws a retryable failure (with the step's hint, if any). */
    FAIL,
    /** Throws a {@link ThrottledException} (with the step's hint, if any). */
    THROTTLE,
    /** Returns a value that asks for a retry. */
    RETRY_RESULT,
    /** Returns the final value. */
    SUCCEED
  }

  /**
   * One attempt: what it does, the server's hint in ms (negative: none), and how long it runs.
   */
  record Step(Kind kind, long hintMs, long workMs) {
    @Nullable Duration hint() {
      return hintMs < 0 || kind == Kind.RETRY_RESULT || kind == Kind.SUCCEED
          ? null
          : Duration.ofMillis(hintMs);
    }
  }

  private static final Step SUCCESS = new Step(Kind.SUCCEED, -1, 0);

  /** A retryable failure that may carry a server hint. */
  static final class HintedFailure extends Exception implements RetryAfter {
    private final transient @Nullable Duration hint;

    HintedFailure(@Nullable Duration hint) {
      super("failed, hint " + hint, null, false, false);
      this.hint = hint;
    }

    @Override
    public Optional<Duration> retryAfter() {
      return Optional.ofNullable(hint);
    }
  }

  /**
   * A task that follows its script (attempts past its end succeed), moving the clock by each
   * attempt's work, and records when each attempt started and ended as an observer sees it.
   */
  static final class Script implements Callable<String> {
    final List<Step> steps;
    final AdversarialTime time;
    final List<long[]> runs = new ArrayList<>(); // {entry, exit}

    Script(List<Step> steps, AdversarialTime time) {
      this.steps = steps;
      this.time = time;
    }

    Step step(int attempt) {
      return attempt < steps.size() ? steps.get(attempt) : SUCCESS;
    }

    @Override
    public String call() throws Exception {
      Step step = step(runs.size());
      long entry = time.peek();
      time.advance(step.workMs() * MS);
      runs.add(new long[] {entry, time.peek()});
      return switch (step.kind()) {
        case FAIL -> throw new HintedFailure(step.hint());
        case THROTTLE -> throw new ThrottledException("slow down", step.hint(), null);
        case RETRY_RESULT -> "again";
        case SUCCEED -> "done";
      };
    }
  }

  /** One retry as the policy's rules say it must be announced. */
  record ExpectedRetry(boolean throttled, int retry, long delayNanos, @Nullable Duration cutHint) {}

  /** How a call must go when neither time nor a budget stops it. */
  record Expected(
      List<ExpectedRetry> retries, int attempts, int throttles, int cutHints, Outcome.@Nullable Reason failure) {}

  /**
   * The policy's rules, replayed: the same backoffs, drawing jitter from a generator seeded like
   * the policy's, one draw sequence per retry.
   */
  static Expected model(
      Script script,
      int maxAttempts,
      int maxThrottles,
      Backoff backoff,
      Backoff throttleBackoff,
      long maxRetryAfterNanos,
      long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<ExpectedRetry> retries = new ArrayList<>();
    int normal = 0;
    int throttles = 0;
    int cutHints = 0;
    long previous = 0;
    long previousThrottle = 0;
    for (int attempt = 0; ; attempt++) {
      Step step = script.step(attempt);
      boolean throttled = step.kind() == Kind.THROTTLE;
      long delay;
      int retry;
      if (step.kind() == Kind.SUCCEED) {
        return new Expected(retries, attempt + 1, throttles, cutHints, null);
      } else if (throttled) {
        throttles++;
        if (throttles > maxThrottles) {
          return new Expected(retries, attempt + 1, throttles, cutHints, Outcome.Reason.THROTTLES_EXHAUSTED);
        }
        retry = throttles;
        delay = throttleBackoff.delayNanos(retry, previousThrottle, random);
        previousThrottle = delay;
      } else {
        normal++;
        if (normal >= maxAttempts) {
          return new Expected(
              retries,
              attempt + 1,
              throttles,
              cutHints,
              step.kind() == Kind.FAIL ? Outcome.Reason.ATTEMPTS_EXHAUSTED : null);
        }
        retry = normal;
        delay = backoff.delayNanos(retry, previous, random);
        previous = delay;
      }
      Duration hint = step.hint();
      Duration cut = null;
      if (hint != null) {
        long hintNanos = hint.toNanos();
        if (hintNanos > maxRetryAfterNanos) {
          cut = hint;
          cutHints++;
          hintNanos = maxRetryAfterNanos;
        }
        delay = Math.max(delay, hintNanos);
      }
      retries.add(new ExpectedRetry(throttled, retry, delay, cut));
    }
  }

  @Provide
  Arbitrary<Step> steps() {
    Arbitrary<Kind> kind =
        Arbitraries.frequency(
            Tuple.of(5, Kind.FAIL), Tuple.of(4, Kind.THROTTLE), Tuple.of(1, Kind.RETRY_RESULT), Tuple.of(1, Kind.SUCCEED));
    Arbitrary<Long> hint =
        Arbitraries.oneOf(Arbitraries.just(-1L), Arbitraries.longs().between(0, 3000));
    Arbitrary<Long> work = Arbitraries.longs().between(0, 300);
    return Combinators.combine(kind, hint, work).as(Step::new);
  }

  @Provide
  Arbitrary<Backoff> backoffs() {
    return Combinators.combine(
            Arbitraries.longs().between(0, 400),
            Arbitraries.doubles().between(1.0, 3.0),
            Arbitraries.longs().between(0, 1500),
            Arbitraries.of(Jitter.class))
        .as(
            (initial, multiplier, extra, jitter) ->
                new Backoff(
                    Duration.ofMillis(initial), multiplier, Duration.ofMillis(initial + extra), jitter));
  }

  @Property(tries = 300)
  void waitsAreAtLeastTheAnnouncedDelayAndHintsAreHonouredUpToTheCap(
      @ForAll @Size(min = 1, max = 14) List<@From("steps") Step> steps,
      @ForAll("backoffs") Backoff backoff,
      @ForAll("backoffs") Backoff throttleBackoff,
      @ForAll @IntRange(min = 1, max = 6) int maxAttempts,
      @ForAll @IntRange(min = 0, max = 5) int maxThrottles,
      @ForAll @LongRange(min = 0, max = 2000) long maxRetryAfterMs,
      @ForAll long seed) {
    AdversarialTime time = AdversarialTime.random(seed, 500 * MS, 400 * MS);
    List<RetryEvent> events = new ArrayList<>();
    SplittableRandom jitter = new SplittableRandom(seed);
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(maxAttempts)
            .maxThrottles(maxThrottles)
            .backoff(backoff)
            .throttleBackoff(throttleBackoff)
            .maxRetryAfter(Duration.ofMillis(maxRetryAfterMs))
            .retryOnResult("again"::equals)
            .ticker(time)
            .sleeper(time)
            .random(() -> jitter)
            .listener(events::add)
            .build();
    Script script = new Script(steps, time);

    Outcome<String> outcome = policy.execute(script);

    Expected expected =
        model(script, maxAttempts, maxThrottles, backoff, throttleBackoff, maxRetryAfterMs * MS, seed);
    assertThat(events).hasSameSizeAs(expected.retries());
    for (int i = 0; i < events.size(); i++) {
      RetryEvent event = events.get(i);
      ExpectedRetry want = expected.retries().get(i);
      Step step = script.step(i);
      assertThat(event.throttled()).as("retry %d throttled", i).isEqualTo(want.throttled());
      assertThat(event.retry()).as("retry %d number", i).isEqualTo(want.retry());
      assertThat(event.delay()).as("retry %d announced delay", i).isEqualTo(Duration.ofNanos(want.delayNanos()));
      assertThat(event.cutHint()).as("retry %d cut hint", i).isEqualTo(want.cutHint());
      Duration hint = step.hint();
      if (hint != null) {
        // Honoured up to the cap; beyond it, the wait is the cap (or the backoff's own delay).
        Duration honoured = hint.compareTo(policy.maxRetryAfter()) > 0 ? policy.maxRetryAfter() : hint;
        assertThat(event.delay()).as("retry %d honours its hint %s", i, hint).isGreaterThanOrEqualTo(honoured);
        if (hint.compareTo(policy.maxRetryAfter()) > 0) {
          Backoff own = event.throttled() ? throttleBackoff : backoff;
          Duration most = own.max().compareTo(policy.maxRetryAfter()) > 0 ? own.max() : policy.maxRetryAfter();
          assertThat(event.delay()).as("retry %d cuts its hint %s", i, hint).isLessThanOrEqualTo(most);
        }
      }
      long waited = script.runs.get(i + 1)[0] - script.runs.get(i)[1];
      assertThat(waited)
          .as("observed wait before attempt %d (%s)", i + 2, time.misdeeds())
          .isGreaterThanOrEqualTo(event.delay().toNanos());
    }
    assertThat(events.stream().filter(e -> !e.throttled()).count()).isLessThanOrEqualTo(maxAttempts - 1);
    assertThat(events.stream().filter(RetryEvent::throttled).count()).isLessThanOrEqualTo(maxThrottles);
    assertThat(outcome.attempts())
        .isEqualTo(script.runs.size())
        .isEqualTo(events.size() + 1)
        .isEqualTo(expected.attempts())
        .isLessThanOrEqualTo(maxAttempts + maxThrottles);
    assertThat(outcome.throttles()).isEqualTo(expected.throttles());
    assertThat(outcome.cutHints()).isEqualTo(expected.cutHints());
    if (expected.failure() == null) {
      assertThat(outcome).isInstanceOf(Outcome.Success.class);
    } else {
      assertThat(outcome)
          .isInstanceOfSatisfying(Outcome.Failure.class, f -> assertThat(f.reason()).isEqualTo(expected.failure()));
    }
  }

  @Test
  void aWaitThatEndsLateStartsNoAttemptPastMaxElapsedTime() {
    AdversarialTime time = AdversarialTime.oversleeping(600 * MS);
    List<Long> starts = new ArrayList<>();
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(5)
            .backoff(Backoff.fixed(Duration.ofMillis(500)))
            .maxElapsedTime(Duration.ofSeconds(1))
            .ticker(time)
            .sleeper(time)
            .build();
    HintedFailure error = new HintedFailure(null);
    long begin = time.peek();
    // The wait of 500 ms fits the deadline when it begins, but the sleep ends at 1.1 s.
    Outcome<String> outcome =
        policy.execute(
            () -> {
              starts.add(time.peek() - begin);
              throw error;
            });
    assertThat(starts).containsExactly(0L);
    assertThat(outcome)
        .isInstanceOfSatisfying(
            Outcome.Failure.class,
            f -> {
              assertThat(f.reason()).isEqualTo(Outcome.Reason.ELAPSED_TIME_EXCEEDED);
              assertThat(f.attempts()).isEqualTo(1);
              assertThat(f.error()).isSameAs(error);
            });
  }

  @Test
  void aRetriedValueStandsWhenItsWaitEndsPastMaxElapsedTime() {
    AdversarialTime time = AdversarialTime.oversleeping(600 * MS);
    AtomicInteger calls = new AtomicInteger();
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(5)
            .backoff(Backoff.fixed(Duration.ofMillis(500)))
            .maxElapsedTime(Duration.ofSeconds(1))
            .retryOnResult("again"::equals)
            .ticker(time)
            .sleeper(time)
            .build();
    Outcome<String> outcome =
        policy.execute(
            () -> {
              calls.incrementAndGet();
              return "again";
            });
    assertThat(calls).hasValue(1);
    assertThat(outcome).isEqualTo(new Outcome.Success<>("again", 1, 0, 0));
  }

  @Property(tries = 300)
  void noAttemptStartsAfterMaxElapsedTimeByThePolicysClock(
      @ForAll @Size(min = 1, max = 14) List<@From("steps") Step> steps,
      @ForAll("backoffs") Backoff backoff,
      @ForAll("backoffs") Backoff throttleBackoff,
      @ForAll @IntRange(min = 1, max = 8) int maxAttempts,
      @ForAll @IntRange(min = 0, max = 5) int maxThrottles,
      @ForAll @LongRange(min = 1, max = 4000) long maxElapsedMs,
      @ForAll long seed) {
    AdversarialTime time = AdversarialTime.random(seed, 500 * MS, 400 * MS);
    AtomicLong start = new AtomicLong(Long.MIN_VALUE);
    // The policy reads its clock first when the call starts: that reading is the call's start.
    Ticker recording =
        () -> {
          long now = time.read();
          start.compareAndSet(Long.MIN_VALUE, now);
          return now;
        };
    List<RetryEvent> events = new ArrayList<>();
    SplittableRandom jitter = new SplittableRandom(seed);
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(maxAttempts)
            .maxThrottles(maxThrottles)
            .backoff(backoff)
            .throttleBackoff(throttleBackoff)
            .maxRetryAfter(Duration.ofMillis(1500))
            .maxElapsedTime(Duration.ofMillis(maxElapsedMs))
            .retryOnResult("again"::equals)
            .ticker(recording)
            .sleeper(time)
            .random(() -> jitter)
            .listener(events::add)
            .build();
    Script script = new Script(steps, time);

    Outcome<String> outcome = policy.execute(script);

    long deadline = start.get() + maxElapsedMs * MS;
    for (int i = 0; i < script.runs.size(); i++) {
      long entry = script.runs.get(i)[0];
      assertThat(entry)
          .as(
              "attempt %d of %d starts %d ms after the call's start, maxElapsedTime %d ms (%s)",
              i + 1,
              script.runs.size(),
              (entry - start.get()) / MS,
              maxElapsedMs,
              time.misdeeds())
          .isLessThanOrEqualTo(deadline);
    }
    for (int i = 0; i < events.size() && i + 1 < script.runs.size(); i++) {
      long waited = script.runs.get(i + 1)[0] - script.runs.get(i)[1];
      assertThat(waited).isGreaterThanOrEqualTo(events.get(i).delay().toNanos());
    }
    // The deadline can only cut a call short, never make it longer than the rules allow.
    Expected unbounded =
        model(script, maxAttempts, maxThrottles, backoff, throttleBackoff, 1500 * MS, seed);
    assertThat(outcome.attempts()).isEqualTo(script.runs.size()).isLessThanOrEqualTo(unbounded.attempts());
    if (outcome.attempts() < unbounded.attempts()) {
      // Cut short by the deadline: the error, or the last value that asked for a retry, stands.
      switch (outcome) {
        case Outcome.Failure<String> f -> assertThat(f.reason()).isEqualTo(Outcome.Reason.ELAPSED_TIME_EXCEEDED);
        case Outcome.Success<String> s -> assertThat(s.value()).isEqualTo("again");
      }
    }
  }

  @Property(tries = 40)
  void aSharedBudgetPaysForNoMoreRetriesThanItsTokensUnderConcurrentCallers(
      @ForAll @IntRange(min = 1, max = 60) int capacity,
      @ForAll @IntRange(min = 1, max = 10) int retryCost,
      @ForAll @IntRange(min = 1, max = 5) int successRefill,
      @ForAll @IntRange(min = 2, max = 8) int threads,
      @ForAll @IntRange(min = 1, max = 30) int callsPerThread,
      @ForAll @IntRange(min = 1, max = 5) int maxAttempts,
      @ForAll @IntRange(min = 0, max = 100) int someSucceed,
      @ForAll boolean allFail,
      @ForAll long seed)
      throws Exception {
    int successPercent = allFail ? 0 : someSucceed;
    RetryBudget budget =
        RetryBudget.builder()
            .capacity(capacity)
            .retryCost(Math.min(retryCost, capacity))
            .successRefill(Math.min(successRefill, capacity))
            .build();
    AdversarialTime time = AdversarialTime.random(seed, 3 * MS, 2 * MS);
    AtomicInteger retries = new AtomicInteger();
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(maxAttempts)
            .backoff(Backoff.exponential(Duration.ofMillis(1), 2.0, Duration.ofMillis(5)).withJitter(Jitter.FULL))
            .budget(budget)
            .ticker(time)
            .sleeper(time)
            .listener(e -> retries.incrementAndGet())
            .build();
    AtomicInteger attempts = new AtomicInteger();
    AtomicInteger firstSuccesses = new AtomicInteger();
    AtomicInteger laterSuccesses = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    CyclicBarrier go = new CyclicBarrier(threads);
    List<Thread> callers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      SplittableRandom random = new SplittableRandom(seed + t);
      callers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      go.await();
                      for (int c = 0; c < callsPerThread; c++) {
                        Outcome<String> outcome =
                            policy.execute(
                                () -> {
                                  attempts.incrementAndGet();
                                  if (random.nextInt(100) < successPercent) {
                                    return "ok";
                                  }
                                  throw new HintedFailure(null);
                                });
                        switch (outcome) {
                          case Outcome.Success<String> s -> {
                            if (s.attempts() == 1) {
                              firstSuccesses.incrementAndGet();
                            } else {
                              laterSuccesses.incrementAndGet();
                            }
                          }
                          case Outcome.Failure<String> f -> {
                            if (f.reason() == Outcome.Reason.BUDGET_EXHAUSTED) {
                              refused.incrementAndGet();
                              if (!(f.error() instanceof RetryBudgetExhaustedException)) {
                                errors.add("budget failure without its exception: " + f.error());
                              }
                            } else if (f.reason() != Outcome.Reason.ATTEMPTS_EXHAUSTED) {
                              errors.add("unexpected reason " + f.reason());
                            }
                          }
                        }
                      }
                    } catch (Exception e) {
                      errors.add(e.toString());
                    }
                  }));
    }
    for (Thread caller : callers) {
      caller.join();
    }
    assertThat(errors).isEmpty();
    int calls = threads * callsPerThread;
    assertThat(attempts.get()).as("every attempt but the first of each call is a retry").isEqualTo(calls + retries.get());
    long spent = (long) retries.get() * budget.retryCost();
    // The balance never went below zero nor above capacity: what was spent came from the
    // starting tokens and what successes put back (at most their refills, less when capped).
    long mostRefilled =
        (long) firstSuccesses.get() * budget.successRefill() + (long) laterSuccesses.get() * budget.retryCost();
    assertThat(budget.available()).isBetween(0L, (long) capacity);
    assertThat(spent)
        .as("tokens spent on %d retries", retries.get())
        .isLessThanOrEqualTo(capacity + mostRefilled - budget.available());
    if (firstSuccesses.get() + laterSuccesses.get() == 0) {
      // Nothing refilled: exactly the starting tokens paid, as many retries as they buy (or the
      // callers wanted), and each refusal left fewer than one retry's worth.
      int affordable = capacity / budget.retryCost();
      int wanted = calls * (maxAttempts - 1);
      assertThat(retries.get()).isEqualTo(Math.min(affordable, wanted));
      assertThat(budget.available()).isEqualTo(capacity - spent);
      if (refused.get() > 0) {
        assertThat(budget.available()).isLessThan(budget.retryCost());
      }
    }
  }
}
