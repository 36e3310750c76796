package dev.fanout;

import dev.fanout.breaker.CircuitBreaker;
import dev.fanout.bulkhead.Bulkhead;
import dev.fanout.rate.KeyedRateGates;
import dev.fanout.rate.RateGate;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryListener;
import dev.fanout.retry.RetryPolicy;
import dev.fanout.time.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ScheduledFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * An ordered composition of per-call policies — retry, circuit breaker, bulkhead, rate gate,
 * attempt timeout — built once and applied anywhere: to a single call with {@link #call(Object,
 * Callable) call(key, callable)}, or to every task of a {@link WorkerPool} ({@link
 * WorkerPool.Builder#policies}).
 *
 * <h2>Composition order</h2>
 *
 * Policies are composed in the order they are added to the builder: the first is the outermost,
 * the last the innermost, around the call. So
 *
 * {@snippet :
 * Policies<AccountRegion> policies = Policies.<AccountRegion>builder()
 *     .retry(RetryPolicy.ofRetries(3))          // outermost: retries what the others let through
 *     .circuitBreaker(breaker)                  // each attempt asks the breaker
 *     .rateGates(gates::gate)                   // each attempt passes the key's rate gate
 *     .attemptTimeout(Duration.ofSeconds(30))   // innermost: bounds the call itself
 *     .build();
 * List<Cluster> clusters = policies.call(accountRegion, () -> eks.listClusters(accountRegion));
 * }
 *
 * runs {@code Retry(CircuitBreaker(RateGate(AttemptTimeout(call))))}: a policy inside the retry
 * applies to every attempt, one outside it once per call. The order above is the usual one (and
 * the one {@link ParallelConfig#policies()} builds, without the breaker): the retry sees the
 * breaker's refusal ({@link dev.fanout.breaker.CallNotPermittedException}) and a timeout as
 * failures of an attempt, the gate spaces every attempt, retries included, and the timeout counts
 * only the call, not the wait for the gate. Put the breaker outside the retry instead and it counts
 * a call's whole retry sequence as one outcome.
 *
 * <h2>What each policy does to an attempt</h2>
 *
 * <ul>
 *   <li>{@link Builder#retry retry}: calls what is inside until it succeeds or the policy gives up;
 *       see {@link RetryPolicy}.
 *   <li>{@link Builder#circuitBreaker circuitBreaker}: refuses at once with {@link
 *       dev.fanout.breaker.CallNotPermittedException} while open; records the outcome otherwise.
 *   <li>{@link Builder#bulkhead bulkhead}: at most so many calls inside at once; refuses with
 *       {@link dev.fanout.bulkhead.BulkheadFullException} when full past its wait.
 *   <li>{@link Builder#rateGate rateGate} / {@link Builder#rateGates rateGates}: waits for a permit
 *       of the gate (the key's gate).
 *   <li>{@link Builder#attemptTimeout attemptTimeout}: interrupts what is inside once it has run
 *       that long, and fails it with {@link TaskTimeoutException} — decided by the {@linkplain
 *       Builder#ticker ticker} too, so an overrun is never reported as a success even if the timer
 *       that interrupts came late.
 * </ul>
 *
 * A composition holds no thread and no state of its own beyond its policies' (a gate, a breaker, a
 * bulkhead are shared by every call that goes through them); it is immutable and thread-safe.
 *
 * @param <K> the type of the keys calls are made for (the key chooses a {@linkplain
 *     Builder#rateGates keyed gate} and is named in timeouts)
 */
public final class Policies<K> {
  private static final Policies<Object> NONE = new Policies<>(List.of(), Ticker.systemTicker());

  private final List<Stage<? super K>> stages;
  private final Ticker ticker;
  /** The retry policy when it is the only stage: {@link #call} then goes straight to it. */
  private final @Nullable RetryPolicy onlyRetry;

  private Policies(List<Stage<? super K>> stages, Ticker ticker) {
    this.stages = List.copyOf(stages);
    this.ticker = ticker;
    this.onlyRetry =
        this.stages.size() == 1 && this.stages.get(0) instanceof Stage.Retry(RetryPolicy policy)
            ? policy
            : null;
  }

  /** A composition to which policies are added outermost first. */
  public static <K> Builder<K> builder() {
    return new Builder<>();
  }

  /** The empty composition: calls run as they are. */
  @SuppressWarnings("unchecked")
  public static <K> Policies<K> none() {
    return (Policies<K>) NONE;
  }

  /**
   * Calls {@code callable} for {@code key} under the policies.
   *
   * @return the value of the call
   * @throws Exception what the call (or a policy) ended with, as it is: the last attempt's
   *     exception after retries, {@link TaskTimeoutException}, {@link
   *     dev.fanout.breaker.CallNotPermittedException}, {@link
   *     dev.fanout.bulkhead.BulkheadFullException}, or {@link InterruptedException}
   */
  public <T extends @Nullable Object> T call(K key, Callable<? extends T> callable)
      throws Exception {
    Objects.requireNonNull(callable, "callable must not be null");
    RetryPolicy retry = onlyRetry;
    if (retry != null) {
      return retry.call(callable); // what the one-stage chain below would do, without its objects
    }
    if (stages.isEmpty()) {
      return callable.call();
    }
    Execution<K> execution = new Execution<>(key, null, null, null);
    execution.detailed = false; // nobody reads the attempts: a retry may skip its outcome
    try {
      return execution.run(this, callable);
    } catch (Throwable t) {
      throw Stage.rethrow(t);
    }
  }

  /**
   * Calls {@code callable} for {@code key} under the policies and reports how it went: every
   * error, {@link Error}s included, ends in the {@link Outcome.Failure}. {@link
   * Outcome#attempts()} counts the times {@code callable} itself was called (0 if a policy refused
   * before the first); throttles and cut hints are the outermost retry's. If the call was
   * interrupted the thread's interrupt status is set again on return.
   */
  public <T extends @Nullable Object> Outcome<T> execute(K key, Callable<? extends T> callable) {
    Objects.requireNonNull(callable, "callable must not be null");
    return execute(key, callable, null, null, null);
  }

  /**
   * As {@link #execute(Object, Callable)}, for a worker pool: its own retry listener joins the
   * retry's, {@code cancelled} tells an attempt timeout that the whole call was cancelled (so the
   * interrupt of the cancellation is not cleared with the timeout's), and attempt timeouts run on
   * the pool's {@code timer}.
   */
  <T extends @Nullable Object> Outcome<T> execute(
      K key,
      Callable<? extends T> callable,
      @Nullable RetryListener listener,
      @Nullable BooleanSupplier cancelled,
      @Nullable Scheduler timer) {
    Execution<K> execution = new Execution<>(key, listener, cancelled, timer);
    T value;
    try {
      value = execution.run(this, callable);
    } catch (Throwable error) {
      Outcome.Reason reason = execution.reasonFor(error);
      if (reason == Outcome.Reason.INTERRUPTED && error instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return new Outcome.Failure<>(
          error, reason, execution.attempts, execution.throttles, execution.cutHints);
    }
    return new Outcome.Success<>(
        value, execution.attempts, execution.throttles, execution.cutHints);
  }

  /**
   * How long every call is sure to be refused: the longest time a {@linkplain
   * Builder#circuitBreaker circuit breaker} of the composition stays open; {@link Duration#ZERO}
   * when none is open. A runner that fetches work before it calls (claim workers) waits this out
   * instead of fetching work it cannot do.
   */
  public Duration pausedFor() {
    Duration longest = Duration.ZERO;
    for (Stage<? super K> stage : stages) {
      if (stage instanceof Stage.Breaker(CircuitBreaker breaker)) {
        Duration open = breaker.remainingOpen();
        if (open.compareTo(longest) > 0) {
          longest = open;
        }
      }
    }
    return longest;
  }

  /**
   * The same composition, in the same order, with the policy of every {@linkplain Builder#retry
   * retry} stage replaced by {@code change} applied to it; the other stages are the same objects
   * (a breaker or a gate stays shared). A runner uses it to add its own rules to a user's
   * composition, e.g. {@code policies.mapRetries(p -> p.toBuilder().abortOn(isFinal).build())};
   * a composition without a retry comes back unchanged.
   *
   * @throws NullPointerException if {@code change} returns {@code null}
   */
  public Policies<K> mapRetries(UnaryOperator<RetryPolicy> change) {
    Objects.requireNonNull(change, "change must not be null");
    List<Stage<? super K>> changed = new ArrayList<>(stages.size());
    boolean any = false;
    for (Stage<? super K> stage : stages) {
      if (stage instanceof Stage.Retry(RetryPolicy policy)) {
        RetryPolicy replaced =
            Objects.requireNonNull(change.apply(policy), "change returned null for " + policy.name());
        changed.add(new Stage.Retry(replaced));
        any = true;
      } else {
        changed.add(stage);
      }
    }
    return any ? new Policies<>(changed, ticker) : this;
  }

  /** The time source of the attempt timeouts. */
  Ticker ticker() {
    return ticker;
  }

  /** Whether this composition has an attempt timeout (the pool then needs its timer). */
  boolean hasAttemptTimeout() {
    for (Stage<? super K> stage : stages) {
      if (stage instanceof Stage.AttemptTimeout) {
        return true;
      }
    }
    return false;
  }

  /** The composition's policies, outermost first, e.g. {@code [retry(3), rateGate, timeout(30s)]}. */
  @Override
  public String toString() {
    return stages.toString();
  }

  List<Stage<? super K>> stages() {
    return stages;
  }

  /** Runs an action after a delay: a worker pool's timer. */
  interface Scheduler {
    /** Schedules {@code action}; {@code null} if the timer is gone (the pool closed). */
    @Nullable ScheduledFuture<?> schedule(Runnable action, long delayNanos);
  }

  /** One call going through the stages: its key, and what the pool and the caller learn. */
  static final class Execution<K> {
    final K key;
    final @Nullable RetryListener listener;
    final @Nullable BooleanSupplier cancelled;
    private final @Nullable Scheduler timer;
    /** Whether the caller reads attempts, throttles and the reason (execute, not call). */
    boolean detailed = true;
    int attempts;
    int throttles;
    int cutHints;
    Outcome.@Nullable Failure<?> retryFailure;

    Execution(
        K key,
        @Nullable RetryListener listener,
        @Nullable BooleanSupplier cancelled,
        @Nullable Scheduler timer) {
      this.key = key;
      this.listener = listener;
      this.cancelled = cancelled;
      this.timer = timer;
    }

    @Nullable ScheduledFuture<?> schedule(Runnable action, long delayNanos) {
      Scheduler t = timer;
      return t != null ? t.schedule(action, delayNanos) : Stage.SharedTimer.schedule(action, delayNanos);
    }

    <T extends @Nullable Object> T run(Policies<K> policies, Callable<? extends T> callable)
        throws Exception {
      return next(policies, 0, callable);
    }

    /** Runs stage {@code index} around the rest, or the call itself past the last stage. */
    @SuppressWarnings("unchecked")
    <T extends @Nullable Object> T next(
        Policies<K> policies, int index, Callable<? extends T> callable) throws Exception {
      List<Stage<? super K>> stages = policies.stages;
      if (index == stages.size()) {
        attempts++;
        return callable.call();
      }
      Stage<K> stage = (Stage<K>) stages.get(index);
      return stage.run(this, policies, () -> next(policies, index + 1, callable));
    }

    void recordRetry(Outcome<?> outcome) {
      throttles = outcome.throttles();
      cutHints = outcome.cutHints();
      retryFailure = outcome instanceof Outcome.Failure<?> f ? f : null;
    }

    Outcome.Reason reasonFor(Throwable error) {
      Outcome.Failure<?> f = retryFailure;
      if (f != null && f.error() == error) {
        return f.reason();
      }
      return error instanceof InterruptedException
          ? Outcome.Reason.INTERRUPTED
          : Outcome.Reason.ATTEMPTS_EXHAUSTED;
    }

    boolean cancelled() {
      BooleanSupplier c = cancelled;
      return c != null && c.getAsBoolean();
    }
  }

  /**
   * Adds policies to a composition, outermost first: each one added goes inside those added
   * before it.
   *
   * @param <K> the type of the keys
   */
  public static final class Builder<K> {
    private final List<Stage<? super K>> stages = new ArrayList<>();
    private Ticker ticker = Ticker.systemTicker();

    private Builder() {}

    /** Retries what is inside, per {@code policy}. */
    public Builder<K> retry(RetryPolicy policy) {
      stages.add(new Stage.Retry(Objects.requireNonNull(policy, "retry must not be null")));
      return this;
    }

    /** Asks {@code breaker} for each call that reaches this point, and tells it the outcome. */
    public Builder<K> circuitBreaker(CircuitBreaker breaker) {
      stages.add(
          new Stage.Breaker(Objects.requireNonNull(breaker, "circuitBreaker must not be null")));
      return this;
    }

    /** Lets at most {@code bulkhead}'s limit of calls inside at once. */
    public Builder<K> bulkhead(Bulkhead bulkhead) {
      stages.add(new Stage.Isolation(Objects.requireNonNull(bulkhead, "bulkhead must not be null")));
      return this;
    }

    /** Waits for a permit of {@code gate}, shared by every key. */
    public Builder<K> rateGate(RateGate gate) {
      stages.add(new Stage.Gate(Objects.requireNonNull(gate, "rateGate must not be null")));
      return this;
    }

    /**
     * Waits for a permit of the key's gate: {@code gateForKey} returns it, e.g. {@code
     * gates::gate} of a {@link KeyedRateGates}.
     */
    public Builder<K> rateGates(Function<? super K, ? extends RateGate> gateForKey) {
      stages.add(
          new Stage.KeyedGate<>(Objects.requireNonNull(gateForKey, "rateGates must not be null")));
      return this;
    }

    /** Waits for a permit of the key's gate in {@code gates}. */
    public Builder<K> rateGates(KeyedRateGates<? super K> gates) {
      Objects.requireNonNull(gates, "rateGates must not be null");
      return rateGates(gates::gate);
    }

    /**
     * Interrupts what is inside once it has run for {@code timeout} and fails it with {@link
     * TaskTimeoutException}.
     *
     * @throws IllegalArgumentException if {@code timeout} is not positive
     */
    public Builder<K> attemptTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "attemptTimeout must not be null");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("attemptTimeout must be positive, was " + timeout);
      }
      stages.add(new Stage.AttemptTimeout(timeout));
      return this;
    }

    /**
     * The clock an attempt's running time is read on for {@link #attemptTimeout}; the system's
     * unless set. An attempt that ran longer by this clock fails with {@link TaskTimeoutException}
     * even if the timer that interrupts it never got to run.
     */
    public Builder<K> ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker must not be null");
      return this;
    }

    /** The composition, with the policies added so far in their order. */
    public Policies<K> build() {
      return new Policies<>(stages, ticker);
    }
  }
}
