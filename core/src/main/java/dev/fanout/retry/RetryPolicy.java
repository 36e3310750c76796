package dev.fanout.retry;

import dev.fanout.internal.Names;
import dev.fanout.internal.RetryMeters;
import dev.fanout.internal.Throwables;
import dev.fanout.time.Sleeper;
import dev.fanout.time.Ticker;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls a task again when it fails, waiting between attempts: an immutable, thread-safe policy
 * shared by any number of calls. Where a loop around {@code try}/{@code Thread.sleep} retries
 * everything the same way, a policy tells three kinds of failure apart:
 *
 * <ul>
 *   <li><b>Retryable failures</b> ({@link Builder#retryOn}) are retried up to
 *       {@link #maxAttempts()} attempts in all, waiting as {@link #backoff()} says.
 *   <li><b>Throttling</b> ({@link Builder#throttledWhen}, by default a {@link ThrottledException}
 *       anywhere in the cause chain) is the server asking to slow down, not a fault: it is
 *       retried with its own {@link #throttleBackoff()}, bounded by its own cap
 *       {@link #maxThrottles()}, and does <em>not</em> use up the normal attempts.
 *   <li>Everything else (by default {@link Error}s, {@link InterruptedException} and
 *       {@link CancellationException}) ends the call at once.
 * </ul>
 *
 * A failure that carries a server hint ({@link RetryAfter}, or {@link Builder#retryAfter}) waits
 * at least the hinted time, up to {@link #maxRetryAfter()} (1 minute unless set): a hint of hours
 * would stall the call, so a longer one is cut to the cap, logged at WARN, and counted in the
 * outcome ({@link Outcome#cutHints()}) and the retry event ({@link RetryEvent#cutHint()}). A shared {@link RetryBudget} stops retry storms: once it is spent,
 * calls fail fast with a {@link RetryBudgetExhaustedException}. {@link #maxElapsedTime()} bounds
 * a whole call: a retry whose wait would pass it is not made, and no attempt starts after it by
 * the policy's {@link Ticker}, even when a wait ends late.
 *
 * {@snippet :
 * RetryPolicy policy = RetryPolicy.builder()
 *     .maxAttempts(4)
 *     .backoff(Backoff.exponential(Duration.ofSeconds(1), 2.0, Duration.ofSeconds(30))
 *         .withJitter(Jitter.EQUAL))
 *     .retryOn(e -> e instanceof IOException)
 *     .throttledWhen(e -> e instanceof SdkServiceException s && s.isThrottlingException())
 *     .budget(sharedBudget)
 *     .listener(RetryListener.logging(log))
 *     .build();
 *
 * List<String> clusters = policy.call(() -> eks.listClusters(account));
 * }
 *
 * <h2>What the caller sees</h2>
 *
 * {@link #call(Callable)} returns the value or throws the task's <em>last</em> exception itself,
 * not wrapped, so {@code catch (IOException e)} keeps working; the errors of earlier attempts are
 * added to it as {@linkplain Throwable#addSuppressed suppressed} (at most 16, and only if it has
 * none yet, so a shared exception instance cannot grow without bound). When the budget is spent it
 * throws {@link RetryBudgetExhaustedException} with the last error as cause; when interrupted
 * during a wait, {@link InterruptedException}. {@link #execute(Callable)} never throws: it returns
 * an {@link Outcome} with the value or error, the {@linkplain Outcome.Failure#reason() reason}, and
 * the number of attempts, which is what a worker pool reports per task.
 *
 * <p>A retried value ({@link Builder#retryOnResult}) that is still retryable when no attempt is
 * left is returned as it is (as Failsafe does); meters count it as {@code attempts_exhausted}
 * (or {@code elapsed_time_exceeded}), and it does not refill the budget.
 *
 * <h2>Threads and time</h2>
 *
 * The call runs on the caller's thread; waits go through the policy's {@link Sleeper}, never
 * under a lock, and end promptly on interruption. An interrupt also stops retries: a task that
 * throws while the thread's interrupt status is set is not retried. Time is read from the
 * policy's {@link Ticker}, so tests can use a fake clock.
 *
 * <h2>Metrics</h2>
 *
 * With {@link Builder#meterRegistry}: {@code fanout.retry.calls} (tag {@code outcome}),
 * {@code fanout.retry.retries} (tag {@code kind=failure|result|throttled}) and
 * {@code fanout.retry.throttles}, all tagged {@code name}. Without one, nothing is counted and
 * nothing costs.
 *
 * <p>Why this class is long (~850 lines): about half is javadoc and the nested {@code Builder} with
 * its checks; the retry loop, its two attempt classes (normal and throttled), server hints, the
 * budget and the elapsed-time cap decide each wait together and are kept in one loop on purpose.
 */
public final class RetryPolicy {
  private static final Logger log = LoggerFactory.getLogger(RetryPolicy.class);

  /** The largest accepted {@code maxAttempts} and {@code maxThrottles}. */
  public static final int MAX_ATTEMPTS = 1_000_000;

  private static final int MAX_SUPPRESSED = 16;
  private static final RetryListener[] NO_LISTENERS = {};
  private static final Outcome.Reason[] REASONS = Outcome.Reason.values();

  private static final Predicate<Throwable> DEFAULT_RETRYABLE =
      e ->
          e instanceof Exception
              && !(e instanceof InterruptedException)
              && !(e instanceof CancellationException);
  private static final Predicate<Throwable> DEFAULT_THROTTLED =
      e -> Throwables.findInChain(e, ThrottledException.class) != null;
  private static final Function<Throwable, Optional<Duration>> DEFAULT_RETRY_AFTER =
      e -> {
        RetryAfter hint = Throwables.findInChain(e, RetryAfter.class);
        return hint == null ? Optional.empty() : hint.retryAfter();
      };

  private static final Duration DEFAULT_MAX_RETRY_AFTER = Duration.ofMinutes(1);

  private static final RetryPolicy NONE = builder().name("none").maxAttempts(1).maxThrottles(0).build();

  private final String name;
  private final int maxAttempts;
  private final Backoff backoff;
  private final Predicate<? super Throwable> retryOn;
  private final @Nullable Predicate<? super Throwable> abortOn;
  private final @Nullable Predicate<@Nullable Object> retryOnResult;
  private final @Nullable Duration maxElapsedTime;
  private final long maxElapsedNanos;
  private final Predicate<? super Throwable> throttledWhen;
  private final Backoff throttleBackoff;
  private final int maxThrottles;
  private final Function<? super Throwable, Optional<Duration>> retryAfter;
  private final Duration maxRetryAfter;
  private final long maxRetryAfterNanos;
  private final @Nullable RetryBudget budget;
  private final RetryListener[] listeners;
  private final Ticker ticker;
  private final Sleeper sleeper;
  private final Supplier<? extends RandomGenerator> random;
  private final @Nullable MeterRegistry registry;
  private final @Nullable RetryMeters meters;

  private RetryPolicy(Builder b) {
    this.name = b.name;
    this.maxAttempts = b.maxAttempts;
    this.backoff = b.backoff;
    this.retryOn = b.retryOn;
    this.abortOn = b.abortOn;
    this.retryOnResult = b.retryOnResult;
    this.maxElapsedTime = b.maxElapsedTime;
    this.maxElapsedNanos = b.maxElapsedTime == null ? 0 : saturatedNanos(b.maxElapsedTime);
    this.throttledWhen = b.throttledWhen;
    this.throttleBackoff = b.throttleBackoff;
    this.maxThrottles = b.maxThrottles;
    this.retryAfter = b.retryAfter;
    this.maxRetryAfter = b.maxRetryAfter;
    this.maxRetryAfterNanos = saturatedNanos(b.maxRetryAfter);
    this.budget = b.budget;
    this.listeners = b.listeners.toArray(NO_LISTENERS);
    this.ticker = b.ticker;
    this.sleeper = b.sleeper;
    this.random = b.random;
    this.registry = b.registry;
    this.meters = b.registry == null ? null : new RetryMeters(b.registry, name, REASONS);
  }

  /** A builder starting from the defaults listed on each of its methods. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this policy's settings. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** One attempt, no retries of any kind, throttling included: the task as it is. */
  public static RetryPolicy none() {
    return NONE;
  }

  /**
   * Plain exponential retries: {@code maxRetries} retries ({@code maxRetries + 1} attempts),
   * waiting 1 s, 2 s, 4 s ... (doubling, at most 1 min) without jitter; throttling as in
   * {@link #builder()}. {@code ofRetries(3)} is {@link dev.fanout.ParallelConfig#defaults()}'s
   * "3 retries with exponential backoff". Add {@link RetryListener#logging} for its
   * {@code Retry 1/3 after 1s...} lines.
   *
   * @throws IllegalArgumentException if {@code maxRetries} is negative or above
   *     {@code MAX_ATTEMPTS - 1}
   */
  public static RetryPolicy ofRetries(int maxRetries) {
    if (maxRetries < 0 || maxRetries > MAX_ATTEMPTS - 1) {
      throw new IllegalArgumentException(
          "maxRetries must be between 0 and " + (MAX_ATTEMPTS - 1) + ", was " + maxRetries);
    }
    return builder()
        .maxAttempts(maxRetries + 1)
        .backoff(Backoff.exponential(Duration.ofSeconds(1), 2.0, Duration.ofMinutes(1)))
        .build();
  }

  // ---------------------------------------------------------------------------------------------
  // Calls

  /**
   * Calls {@code task} until it succeeds or the policy gives up.
   *
   * @return the task's value (possibly a retryable value when no attempt was left)
   * @throws Exception the task's last exception, unwrapped, with earlier attempts' errors
   *     suppressed (an {@link Error} is rethrown as it is)
   * @throws RetryBudgetExhaustedException if the shared budget is spent; the cause is the last
   *     error
   * @throws InterruptedException if interrupted while waiting between attempts
   */
  public <T extends @Nullable Object> T call(Callable<? extends T> task) throws Exception {
    Objects.requireNonNull(task, "task must not be null");
    long start = maxElapsedNanos > 0 ? ticker.read() : 0;
    T value;
    try {
      value = task.call();
    } catch (Throwable error) {
      return valueOrThrow(retry(task, NO_LISTENERS, start, error, null));
    }
    if (retryOnResult != null && retryOnResult.test(value)) {
      return valueOrThrow(retry(task, NO_LISTENERS, start, null, value));
    }
    succeededFirstTime();
    return value;
  }

  /**
   * Runs {@code task} until it succeeds or the policy gives up.
   *
   * @throws Exception as {@link #call(Callable)}
   */
  public void run(ThrowingRunnable task) throws Exception {
    Objects.requireNonNull(task, "task must not be null");
    call(
        () -> {
          task.run();
          return null;
        });
  }

  /**
   * Calls {@code task} until it succeeds or the policy gives up, and reports how it went. Every
   * error of the task, {@link Error}s included, ends up in the {@link Outcome.Failure}; only an
   * exception thrown by one of the policy's own functions ({@link Builder#retryOn},
   * {@link Builder#throttledWhen}, {@link Builder#retryAfter}, {@link Builder#retryOnResult}) gets
   * out, as the bug it is. If the call was interrupted ({@link Outcome.Reason#INTERRUPTED}), the
   * thread's interrupt status is set again on return.
   */
  public <T extends @Nullable Object> Outcome<T> execute(Callable<? extends T> task) {
    return execute(task, (Object) NO_LISTENERS);
  }

  /**
   * As {@link #execute(Callable)}, also telling {@code listener} of this call's retries (after
   * the policy's own listeners): for a caller that knows more than the policy, such as the key
   * a worker pool runs the task for.
   */
  public <T extends @Nullable Object> Outcome<T> execute(
      Callable<? extends T> task, RetryListener listener) {
    Objects.requireNonNull(listener, "listener must not be null");
    return execute(task, (Object) listener);
  }

  private <T extends @Nullable Object> Outcome<T> execute(
      Callable<? extends T> task, Object extraListeners) {
    Objects.requireNonNull(task, "task must not be null");
    long start = maxElapsedNanos > 0 ? ticker.read() : 0;
    T value;
    Outcome<T> outcome;
    try {
      value = task.call();
    } catch (Throwable error) {
      outcome = retry(task, listeners(extraListeners), start, error, null);
      restoreInterrupt(outcome);
      return outcome;
    }
    if (retryOnResult != null && retryOnResult.test(value)) {
      outcome = retry(task, listeners(extraListeners), start, null, value);
      restoreInterrupt(outcome);
      return outcome;
    }
    succeededFirstTime();
    return new Outcome.Success<>(value, 1, 0);
  }

  /**
   * The extra listeners: a {@link RetryListener} or an array of them. The happy path never needs
   * them as an array, so a single listener is wrapped only when a retry happens.
   */
  private static RetryListener[] listeners(Object extra) {
    return extra instanceof RetryListener one ? new RetryListener[] {one} : (RetryListener[]) extra;
  }

  private static void restoreInterrupt(Outcome<?> outcome) {
    if (outcome instanceof Outcome.Failure<?> f
        && f.reason() == Outcome.Reason.INTERRUPTED
        && f.error() instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
  }

  private void succeededFirstTime() {
    if (budget != null) {
      budget.recordSuccess(false);
    }
    if (meters != null) {
      meters.success(false);
    }
  }

  private static <T extends @Nullable Object> T valueOrThrow(Outcome<T> outcome) {
    return switch (outcome) {
      case Outcome.Success<T> s -> s.value();
      case Outcome.Failure<T> f -> throw Throwables.sneakyThrow(f.error());
    };
  }

  /**
   * The retry loop, entered after the first attempt failed ({@code error != null}) or returned a
   * value that asked for a retry. Kept apart from the happy path so that path stays small.
   * {@code start} is the first attempt's start when {@link #maxElapsedTime} is set (the only
   * reader), else 0: the happy path reads no clock.
   */
  private <T extends @Nullable Object> Outcome<T> retry(
      Callable<? extends T> task,
      RetryListener[] extra,
      long start,
      @Nullable Throwable firstError,
      @Nullable T firstValue) {
    @Nullable Throwable error = firstError;
    @Nullable T value = firstValue;
    int attempts = 1;
    int normal = 0; // attempts that ended without throttling
    int throttles = 0; // attempts that were throttled
    long previousDelay = 0;
    long previousThrottleDelay = 0;
    int cutHints = 0;
    @Nullable List<Throwable> earlier = null;
    while (true) {
      boolean throttled = false;
      @Nullable Duration cutHint = null;
      int retry;
      int maxRetries;
      long delay;
      if (error != null) {
        if (error instanceof InterruptedException || Thread.currentThread().isInterrupted()) {
          return failed(error, Outcome.Reason.INTERRUPTED, earlier, attempts, throttles, cutHints);
        }
        if (abortOn != null && abortOn.test(error)) {
          return failed(error, Outcome.Reason.NOT_RETRYABLE, earlier, attempts, throttles, cutHints);
        }
        throttled = throttledWhen.test(error);
        if (throttled) {
          throttles++;
          if (meters != null) {
            meters.throttled();
          }
          if (throttles > maxThrottles) {
            return failed(error, Outcome.Reason.THROTTLES_EXHAUSTED, earlier, attempts, throttles, cutHints);
          }
          retry = throttles;
          maxRetries = maxThrottles;
          delay = throttleBackoff.delayNanos(retry, previousThrottleDelay, random.get());
          previousThrottleDelay = delay;
        } else {
          normal++;
          if (!retryOn.test(error)) {
            return failed(error, Outcome.Reason.NOT_RETRYABLE, earlier, attempts, throttles, cutHints);
          }
          if (normal >= maxAttempts) {
            return failed(error, Outcome.Reason.ATTEMPTS_EXHAUSTED, earlier, attempts, throttles, cutHints);
          }
          retry = normal;
          maxRetries = maxAttempts - 1;
          delay = backoff.delayNanos(retry, previousDelay, random.get());
          previousDelay = delay;
        }
        long hint = hintNanos(error);
        if (hint > maxRetryAfterNanos) {
          cutHint = Duration.ofNanos(hint);
          cutHints++;
          hint = maxRetryAfterNanos;
          log.warn(
              "retry policy '{}': the server asked to wait {}, more than maxRetryAfter {}; waiting {}",
              name, cutHint, maxRetryAfter, maxRetryAfter);
        }
        delay = Math.max(delay, hint);
      } else {
        normal++;
        if (normal >= maxAttempts) {
          return lastValueStands(value, Outcome.Reason.ATTEMPTS_EXHAUSTED, attempts, throttles, cutHints);
        }
        retry = normal;
        maxRetries = maxAttempts - 1;
        delay = backoff.delayNanos(retry, previousDelay, random.get());
        previousDelay = delay;
      }

      if (maxElapsedNanos > 0 && ticker.read() - start > maxElapsedNanos - delay) {
        return error == null
            ? lastValueStands(value, Outcome.Reason.ELAPSED_TIME_EXCEEDED, attempts, throttles, cutHints)
            : failed(error, Outcome.Reason.ELAPSED_TIME_EXCEEDED, earlier, attempts, throttles, cutHints);
      }
      if (budget != null && !budget.tryAcquireRetry()) {
        if (error != null) {
          addSuppressed(error, earlier);
        }
        RetryBudgetExhaustedException spent =
            new RetryBudgetExhaustedException(budget, attempts, error);
        return failed(spent, Outcome.Reason.BUDGET_EXHAUSTED, null, attempts, throttles, cutHints);
      }
      if (meters != null) {
        meters.retry(throttled, error == null);
      }
      if (listeners.length > 0 || extra.length > 0) {
        RetryEvent event =
            new RetryEvent(
                attempts,
                retry,
                maxRetries,
                throttled,
                Duration.ofNanos(delay),
                error,
                value,
                cutHint);
        notify(listeners, event);
        notify(extra, event);
      }
      if (error != null) {
        if (earlier == null) {
          earlier = new ArrayList<>(4);
        }
        if (earlier.size() < MAX_SUPPRESSED) {
          earlier.add(error);
        }
      }

      try {
        await(delay);
      } catch (InterruptedException interrupted) {
        if (error != null) {
          interrupted.addSuppressed(error);
        }
        return failed(interrupted, Outcome.Reason.INTERRUPTED, null, attempts, throttles, cutHints);
      }
      // A wait may end late (a descheduled thread, a paused JVM): an attempt that would start
      // past the deadline is not made, however the wait looked when it began.
      if (maxElapsedNanos > 0 && ticker.read() - start > maxElapsedNanos) {
        return error == null
            ? lastValueStands(value, Outcome.Reason.ELAPSED_TIME_EXCEEDED, attempts, throttles, cutHints)
            : failed(error, Outcome.Reason.ELAPSED_TIME_EXCEEDED, earlier, attempts, throttles, cutHints);
      }

      attempts++;
      try {
        value = task.call();
        error = null;
      } catch (Throwable e) {
        error = e;
        value = null;
        continue;
      }
      if (retryOnResult != null && retryOnResult.test(value)) {
        continue;
      }
      if (budget != null) {
        budget.recordSuccess(true);
      }
      if (meters != null) {
        meters.success(true);
      }
      return new Outcome.Success<>(value, attempts, throttles, cutHints);
    }
  }

  /**
   * The last value stands although it asked for a retry: returned as a success, but counted (in
   * meters) as the give-up it is, and not refilling the budget.
   */
  private <T extends @Nullable Object> Outcome<T> lastValueStands(
      @Nullable T value, Outcome.Reason reason, int attempts, int throttles, int cutHints) {
    if (meters != null) {
      meters.failure(reason);
    }
    return new Outcome.Success<>(value, attempts, throttles, cutHints);
  }

  private <T extends @Nullable Object> Outcome<T> failed(
      Throwable error,
      Outcome.Reason reason,
      @Nullable List<Throwable> earlier,
      int attempts,
      int throttles,
      int cutHints) {
    addSuppressed(error, earlier);
    if (meters != null) {
      meters.failure(reason);
    }
    if (log.isDebugEnabled()) {
      log.debug(
          "retry policy '{}' gave up ({}) after {} attempt(s): {}", name, reason, attempts, error.toString());
    }
    return new Outcome.Failure<>(error, reason, attempts, throttles, cutHints);
  }

  private static void addSuppressed(Throwable error, @Nullable List<Throwable> earlier) {
    if (earlier == null || error.getSuppressed().length > 0) {
      return;
    }
    for (Throwable e : earlier) {
      if (e != error) {
        error.addSuppressed(e);
      }
    }
  }

  private long hintNanos(Throwable error) {
    Optional<Duration> hint = retryAfter.apply(error);
    if (hint == null || hint.isEmpty() || hint.get().isNegative()) {
      return 0;
    }
    return saturatedNanos(hint.get());
  }

  private void await(long nanos) throws InterruptedException {
    long begin = ticker.read();
    long remaining = nanos;
    do {
      sleeper.sleep(remaining); // checks the interrupt status even for a zero wait
      remaining = nanos - (ticker.read() - begin);
    } while (remaining > 0);
  }

  private void notify(RetryListener[] targets, RetryEvent event) {
    for (RetryListener listener : targets) {
      try {
        listener.onRetry(event);
      } catch (RuntimeException e) {
        log.warn("retry listener {} of policy '{}' failed; ignored", listener, name, e);
      }
    }
  }

  private static long saturatedNanos(Duration d) {
    return d.compareTo(Backoff.MAX_DELAY) >= 0 ? Long.MAX_VALUE : d.toNanos();
  }

  // ---------------------------------------------------------------------------------------------
  // Accessors

  /** The name used in logs and the {@code name} meter tag. */
  public String name() {
    return name;
  }

  /** The most attempts that end in a normal (not throttled) failure or retryable result. */
  public int maxAttempts() {
    return maxAttempts;
  }

  /** The wait before each normal retry. */
  public Backoff backoff() {
    return backoff;
  }

  /** The most time one call may take, waits included, or {@code null} for no limit. */
  public @Nullable Duration maxElapsedTime() {
    return maxElapsedTime;
  }

  /** The wait before each retry of a throttled attempt. */
  public Backoff throttleBackoff() {
    return throttleBackoff;
  }

  /** The most throttled attempts that are retried; they do not count against {@link #maxAttempts()}. */
  public int maxThrottles() {
    return maxThrottles;
  }

  /** The longest a server hint may make a retry wait; see {@link Builder#maxRetryAfter}. */
  public Duration maxRetryAfter() {
    return maxRetryAfter;
  }

  /** The shared budget, or {@code null} if retries are not budgeted. */
  public @Nullable RetryBudget budget() {
    return budget;
  }

  @Override
  public String toString() {
    return "RetryPolicy[name="
        + name
        + ", maxAttempts="
        + maxAttempts
        + ", backoff="
        + backoff
        + ", maxThrottles="
        + maxThrottles
        + ", throttleBackoff="
        + throttleBackoff
        + (maxElapsedTime == null ? "" : ", maxElapsedTime=" + maxElapsedTime)
        + (budget == null ? "" : ", budget=" + budget.name())
        + "]";
  }

  /** A task that returns nothing and may throw, for {@link #run(ThrowingRunnable)}. */
  @FunctionalInterface
  public interface ThrowingRunnable {
    void run() throws Exception;
  }

  // ---------------------------------------------------------------------------------------------
  // Builder

  /**
   * Builds a {@link RetryPolicy}; {@link #build()} validates (with messages naming the setting
   * and the bad value) and copies, so one builder can make several policies. Not thread-safe.
   */
  public static final class Builder {
    private String name = "default";
    private int maxAttempts = 3;
    private Backoff backoff =
        Backoff.exponential(Duration.ofMillis(100), 2.0, Duration.ofSeconds(10))
            .withJitter(Jitter.FULL);
    private Predicate<? super Throwable> retryOn = DEFAULT_RETRYABLE;
    private @Nullable Predicate<? super Throwable> abortOn;
    private @Nullable Predicate<@Nullable Object> retryOnResult;
    private @Nullable Duration maxElapsedTime;
    private Predicate<? super Throwable> throttledWhen = DEFAULT_THROTTLED;
    private Backoff throttleBackoff =
        Backoff.exponential(Duration.ofMillis(500), 2.0, Duration.ofSeconds(20))
            .withJitter(Jitter.FULL);
    private int maxThrottles = 10;
    private Function<? super Throwable, Optional<Duration>> retryAfter = DEFAULT_RETRY_AFTER;
    private Duration maxRetryAfter = DEFAULT_MAX_RETRY_AFTER;
    private @Nullable RetryBudget budget;
    private final List<RetryListener> listeners = new ArrayList<>();
    private Ticker ticker = Ticker.systemTicker();
    private Sleeper sleeper = Sleeper.systemSleeper();
    private Supplier<? extends RandomGenerator> random = ThreadLocalRandom::current;
    private @Nullable MeterRegistry registry;

    private Builder() {}

    private Builder(RetryPolicy p) {
      name = p.name;
      maxAttempts = p.maxAttempts;
      backoff = p.backoff;
      retryOn = p.retryOn;
      abortOn = p.abortOn;
      retryOnResult = p.retryOnResult;
      maxElapsedTime = p.maxElapsedTime;
      throttledWhen = p.throttledWhen;
      throttleBackoff = p.throttleBackoff;
      maxThrottles = p.maxThrottles;
      retryAfter = p.retryAfter;
      maxRetryAfter = p.maxRetryAfter;
      budget = p.budget;
      listeners.addAll(List.of(p.listeners));
      ticker = p.ticker;
      sleeper = p.sleeper;
      random = p.random;
      registry = p.registry;
    }

    /** The name for logs and meters; {@code default} unless set. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name must not be null");
      this.name = Names.nonBlank(name);
      return this;
    }

    /**
     * The most attempts in all, the first included, not counting throttled ones; 1 (no retry) to
     * {@value RetryPolicy#MAX_ATTEMPTS}; 3 unless set.
     */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS) {
        throw new IllegalArgumentException(
            "maxAttempts must be between 1 and " + MAX_ATTEMPTS + ", was " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /**
     * The most retries after the first attempt: {@code maxAttempts(maxRetries + 1)}.
     *
     * @deprecated use {@link #maxAttempts(int)}, which counts the first attempt too: one word for
     *     one limit across the library
     */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public Builder maxRetries(int maxRetries) {
      if (maxRetries < 0 || maxRetries > MAX_ATTEMPTS - 1) {
        throw new IllegalArgumentException(
            "maxRetries must be between 0 and " + (MAX_ATTEMPTS - 1) + ", was " + maxRetries);
      }
      return maxAttempts(maxRetries + 1);
    }

    /** The wait before each normal retry; 100 ms doubling up to 10 s, full jitter, unless set. */
    public Builder backoff(Backoff backoff) {
      this.backoff = Objects.requireNonNull(backoff, "backoff must not be null");
      return this;
    }

    /**
     * Which failures are retried (throttling aside, see {@link #throttledWhen}); unless set, any
     * {@link Exception} except {@link InterruptedException} and {@link CancellationException}.
     */
    public Builder retryOn(Predicate<? super Throwable> retryable) {
      this.retryOn = Objects.requireNonNull(retryable, "retryable must not be null");
      return this;
    }

    /**
     * Failures that end the call at once, with {@link Outcome.Reason#NOT_RETRYABLE}, whatever
     * {@link #retryOn} and {@link #throttledWhen} say (as Failsafe's {@code abortOn}): for example
     * an error a component below has already called final. Adds to the predicates given before
     * (also those of the policy a {@link RetryPolicy#toBuilder() toBuilder()} started from): a
     * failure any of them matches aborts. None unless set.
     */
    public Builder abortOn(Predicate<? super Throwable> aborts) {
      Objects.requireNonNull(aborts, "aborts must not be null");
      Predicate<? super Throwable> before = abortOn;
      this.abortOn = before == null ? aborts : e -> before.test(e) || aborts.test(e);
      return this;
    }

    /**
     * Which returned values ask for another attempt (for example an empty page that is not final
     * yet); such attempts count against {@link #maxAttempts}. None unless set.
     */
    public Builder retryOnResult(Predicate<@Nullable Object> retryable) {
      this.retryOnResult = Objects.requireNonNull(retryable, "retryable must not be null");
      return this;
    }

    /**
     * The most time one call may take, from its first attempt's start, waits included: a retry
     * whose wait would end after it is not made, and if a wait ends late (an overslept sleeper, a
     * clock that jumped) so that the next attempt would start after it, that attempt is not made
     * either; the call ends with {@link Outcome.Reason#ELAPSED_TIME_EXCEEDED} and the last error
     * (or the last value, see {@link #retryOnResult}). An attempt already running is not cut
     * short. {@code null} (the default) for no limit.
     */
    public Builder maxElapsedTime(@Nullable Duration maxElapsedTime) {
      if (maxElapsedTime != null && (maxElapsedTime.isNegative() || maxElapsedTime.isZero())) {
        throw new IllegalArgumentException(
            "maxElapsedTime must be positive (or null for none), was " + maxElapsedTime);
      }
      this.maxElapsedTime = maxElapsedTime;
      return this;
    }

    /**
     * Which failures are throttling: retried with {@link #throttleBackoff}, up to
     * {@link #maxThrottles}, without using up {@link #maxAttempts}. Unless set, a
     * {@link ThrottledException} anywhere in the cause chain.
     */
    public Builder throttledWhen(Predicate<? super Throwable> throttled) {
      this.throttledWhen = Objects.requireNonNull(throttled, "throttled must not be null");
      return this;
    }

    /** The wait before each throttled retry; 500 ms doubling up to 20 s, full jitter, unless set. */
    public Builder throttleBackoff(Backoff throttleBackoff) {
      this.throttleBackoff =
          Objects.requireNonNull(throttleBackoff, "throttleBackoff must not be null");
      return this;
    }

    /**
     * The most throttled attempts that are retried, 0 to {@value RetryPolicy#MAX_ATTEMPTS}; 10
     * unless set. The next throttled attempt ends the call with its error.
     */
    public Builder maxThrottles(int maxThrottles) {
      if (maxThrottles < 0 || maxThrottles > MAX_ATTEMPTS) {
        throw new IllegalArgumentException(
            "maxThrottles must be between 0 and " + MAX_ATTEMPTS + ", was " + maxThrottles);
      }
      this.maxThrottles = maxThrottles;
      return this;
    }

    /**
     * Reads a server's hint from a failure; a retry then waits at least that long. Unless set, a
     * {@link RetryAfter} anywhere in the cause chain.
     */
    public Builder retryAfter(Function<? super Throwable, Optional<Duration>> retryAfter) {
      this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter must not be null");
      return this;
    }

    /**
     * The longest a server hint may make a retry wait; 1 minute unless set. A longer hint is cut to
     * this, logged at WARN and counted in {@link Outcome#cutHints()}.
     *
     * @throws IllegalArgumentException if {@code maxRetryAfter} is negative
     */
    public Builder maxRetryAfter(Duration maxRetryAfter) {
      Objects.requireNonNull(maxRetryAfter, "maxRetryAfter must not be null");
      if (maxRetryAfter.isNegative()) {
        throw new IllegalArgumentException("maxRetryAfter must not be negative, was " + maxRetryAfter);
      }
      this.maxRetryAfter = maxRetryAfter;
      return this;
    }

    /** A budget shared with other policies or calls; {@code null} (the default) for none. */
    public Builder budget(@Nullable RetryBudget budget) {
      this.budget = budget;
      return this;
    }

    /** Adds a listener told of each retry, in the order added. */
    public Builder listener(RetryListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener must not be null"));
      return this;
    }

    /** The clock for {@link #maxElapsedTime} and waits; the system's unless set. */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker must not be null");
      return this;
    }

    /** How waits are made; {@link Thread#sleep} unless set. */
    public Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper must not be null");
      return this;
    }

    /**
     * Where jitter comes from, asked once per retry on the calling thread;
     * {@link ThreadLocalRandom#current()} unless set. A supplier that hands out one shared
     * generator must hand out a thread-safe one.
     */
    public Builder random(Supplier<? extends RandomGenerator> random) {
      this.random = Objects.requireNonNull(random, "random must not be null");
      return this;
    }

    /** Publishes the policy's meters (see {@link RetryPolicy}) to {@code registry}. */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry must not be null");
      return this;
    }

    /** Builds the immutable policy. */
    public RetryPolicy build() {
      return new RetryPolicy(this);
    }
  }
}
