package dev.fanout.breaker;

import dev.fanout.internal.BreakerMeters;
import dev.fanout.internal.Names;
import dev.fanout.internal.Throwables;
import dev.fanout.retry.ThrottledException;
import dev.fanout.time.Ticker;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops calling a service that keeps failing, and tries it again after a while: where a
 * {@link dev.fanout.retry.RetryPolicy} makes one call try harder, a breaker makes <em>all</em>
 * calls stop trying for a time, so a failing service is not flooded and callers fail fast.
 *
 * {@snippet :
 * CircuitBreaker breaker = CircuitBreaker.builder()
 *     .name("eks")
 *     .failureRateThreshold(50, 20, 10) // open when half of the last 20 calls failed (10 at least)
 *     .openDuration(Duration.ofSeconds(30))
 *     .build();
 *
 * List<String> clusters = breaker.call(() -> eks.listClusters(account));
 * // throws CallNotPermittedException (with remainingOpen()) while open
 * }
 *
 * <h2>States</h2>
 *
 * <ul>
 *   <li><b>{@link State#CLOSED}</b>: every call is permitted and its outcome recorded. The breaker
 *       opens when the {@linkplain Builder#failureRateThreshold failure rate} over the last
 *       {@code windowSize} recorded calls reaches the threshold (once at least {@code minimumCalls}
 *       are recorded), or after {@linkplain Builder#consecutiveFailures n failures in a row}.
 *   <li><b>{@link State#OPEN}</b>: no call is permitted for {@link #openDuration()}. Outcomes
 *       reported meanwhile (of calls permitted before it opened) change nothing.
 *   <li><b>{@link State#HALF_OPEN}</b>: the first permission request after the open duration (by
 *       the breaker's {@link Ticker}) moves the breaker to half-open. At most
 *       {@link #halfOpenCalls()} trial calls are permitted; when all of them succeed the breaker
 *       closes with an empty window, and the first failure opens it again for another
 *       {@link #openDuration()}. A trial that ends with an ignored error, or whose permission is
 *       {@linkplain #releasePermission() released}, gives its permit back for another trial.
 * </ul>
 *
 * The breaker has no thread of its own: open to half-open is decided on the ticker reading of the
 * next {@link #tryAcquirePermission()}, so {@link #state()} reports {@code OPEN} until someone asks.
 *
 * <h2>What counts</h2>
 *
 * {@link #onSuccess()} records a success. {@link #onError(Throwable)} records a failure when
 * {@link Builder#recordFailureWhen} says so: by default for every {@link Exception} except a
 * {@link ThrottledException} (anywhere in the cause chain; throttling is the server pacing the
 * caller, handled by retry and rate gates), an {@link InterruptedException} and a
 * {@link CancellationException} (the caller gave up, the service did not fail). Any other error,
 * {@link Error}s included by default, is <em>ignored</em>: neither success nor failure.
 *
 * <h2>Use</h2>
 *
 * {@link #call(Callable)} does it all. For a caller that composes its own stages, the protocol is:
 * {@link #tryAcquirePermission()}; if it returned {@code true}, exactly one of
 * {@link #onSuccess()}, {@link #onError(Throwable)} or (if the call never ran)
 * {@link #releasePermission()}.
 *
 * <h2>Threads</h2>
 *
 * Thread-safe. While closed, {@link #tryAcquirePermission()} is one volatile read; outcomes and
 * transitions take a short {@link ReentrantLock} section that never calls user code (the predicate
 * and listeners run outside it). Outcomes are attributed to the state in which they are reported:
 * one that arrives in half-open while no trial is in flight is ignored as belonging to an earlier
 * state; the protocol gives a breaker no way to tell a late outcome of a call permitted while
 * closed from a trial's, so a call that outlasts a whole open duration may stand in for a trial.
 *
 * <p>Why this class is long (~700 lines): most of it is javadoc and the nested {@code Builder}; the
 * state machine (closed, open, half-open with its trial permits, the sliding failure window) is one
 * compare-and-set loop over one immutable phase and is easier to check read in one place than
 * split.
 */
public final class CircuitBreaker {
  private static final Logger log = LoggerFactory.getLogger(CircuitBreaker.class);

  /** The states of a breaker. */
  public enum State {
    /** Calls are permitted and recorded. */
    CLOSED,
    /** Calls are refused until the open duration has passed. */
    OPEN,
    /** A few trial calls are permitted; they decide whether to close or open again. */
    HALF_OPEN
  }

  /**
   * A snapshot of a breaker's counts.
   *
   * @param state the state at the time of the snapshot
   * @param bufferedCalls calls in the failure-rate window (0 without one, or when not closed)
   * @param failedCalls failures among them
   * @param consecutiveFailures failures since the last success while closed
   * @param trialsInFlight half-open trial permits held now
   * @param trialSuccesses half-open trials that succeeded so far
   */
  public record Metrics(
      State state,
      int bufferedCalls,
      int failedCalls,
      int consecutiveFailures,
      int trialsInFlight,
      int trialSuccesses) {

    /** Failures in the window as a percentage of its calls; {@code NaN} when it is empty. */
    public double failureRate() {
      return bufferedCalls == 0 ? Double.NaN : failedCalls * 100.0 / bufferedCalls;
    }
  }

  private static final State[] STATES = State.values();
  private static final CircuitBreakerListener[] NO_LISTENERS = {};

  private static final Predicate<Throwable> DEFAULT_RECORD_FAILURE =
      e ->
          e instanceof Exception
              && !(e instanceof InterruptedException)
              && !(e instanceof CancellationException)
              && Throwables.findInChain(e, ThrottledException.class) == null;

  private static final double DEFAULT_THRESHOLD = 50;
  private static final int DEFAULT_WINDOW = 20;
  private static final int DEFAULT_MINIMUM = 10;
  private static final Duration DEFAULT_OPEN = Duration.ofSeconds(30);
  private static final int DEFAULT_HALF_OPEN_CALLS = 3;

  private final String name;
  private final double failureRateThreshold; // 0 when there is no window
  private final int windowSize;
  private final int minimumCalls;
  private final int consecutiveFailures; // 0 when not set
  private final Duration openDuration;
  private final long openNanos;
  private final int halfOpenCalls;
  private final Predicate<? super Throwable> recordFailureWhen;
  private final Ticker ticker;
  private final CircuitBreakerListener[] listeners;
  private final @Nullable BreakerMeters meters;

  private final ReentrantLock lock = new ReentrantLock();

  /** The current state and when it began; replaced, never changed, under {@link #lock}. */
  private volatile Phase phase;

  // Guarded by lock.
  private final boolean @Nullable [] window; // true = failure; a ring of the last windowSize calls
  private int windowNext;
  private int windowCount;
  private int windowFailures;
  private int consecutive;
  private int trialsInFlight;
  private int trialSuccesses;

  /** Transitions not yet told to the listeners, in order. */
  private final ConcurrentLinkedQueue<Transition> pending = new ConcurrentLinkedQueue<>();

  private final AtomicBoolean delivering = new AtomicBoolean();

  private record Phase(State state, long since) {}

  private record Transition(State from, State to) {}

  private CircuitBreaker(Builder b) {
    this.name = b.name;
    boolean anySet = b.failureRateThreshold > 0 || b.consecutiveFailures > 0;
    this.failureRateThreshold = anySet ? b.failureRateThreshold : DEFAULT_THRESHOLD;
    this.windowSize = anySet ? b.windowSize : DEFAULT_WINDOW;
    this.minimumCalls = anySet ? b.minimumCalls : DEFAULT_MINIMUM;
    this.consecutiveFailures = b.consecutiveFailures;
    this.openDuration = b.openDuration;
    this.openNanos = saturatedNanos(b.openDuration);
    this.halfOpenCalls = b.halfOpenCalls;
    this.recordFailureWhen = b.recordFailureWhen;
    this.ticker = b.ticker;
    this.listeners = b.listeners.toArray(NO_LISTENERS);
    this.window = failureRateThreshold > 0 ? new boolean[windowSize] : null;
    this.phase = new Phase(State.CLOSED, 0);
    this.meters =
        b.registry == null
            ? null
            : new BreakerMeters(b.registry, name, STATES, () -> phase.state());
  }

  /**
   * A builder. Without {@link Builder#failureRateThreshold} and
   * {@link Builder#consecutiveFailures}, the breaker opens when 50% of the last 20 calls failed,
   * once at least 10 were recorded.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A breaker with every default: see {@link #builder()} and the {@link Builder}'s methods. */
  public static CircuitBreaker ofDefaults(String name) {
    return builder().name(name).build();
  }

  // ---------------------------------------------------------------------------------------------
  // Calls

  /**
   * Asks to make one call. {@code true} while closed; while open, {@code false} until the open
   * duration has passed, when the breaker moves to half-open; in half-open, {@code true} for at
   * most {@link #halfOpenCalls()} trial calls at once. A {@code true} must be followed by exactly
   * one of {@link #onSuccess()}, {@link #onError(Throwable)} or {@link #releasePermission()}.
   */
  public boolean tryAcquirePermission() {
    Phase p = phase;
    if (p.state() == State.CLOSED) {
      return true;
    }
    if (p.state() == State.OPEN && ticker.read() - p.since() < openNanos) {
      notPermitted();
      return false;
    }
    boolean granted;
    lock.lock();
    try {
      p = phase;
      if (p.state() == State.OPEN) {
        long now = ticker.read();
        if (now - p.since() >= openNanos) {
          transition(State.HALF_OPEN, now);
        }
      }
      granted = switch (phase.state()) {
        case CLOSED -> true;
        case OPEN -> false;
        case HALF_OPEN -> {
          if (trialsInFlight + trialSuccesses < halfOpenCalls) {
            trialsInFlight++;
            yield true;
          }
          yield false;
        }
      };
    } finally {
      lock.unlock();
    }
    deliver();
    if (!granted) {
      notPermitted();
    }
    return granted;
  }

  /** A permitted call succeeded. */
  public void onSuccess() {
    count(BreakerMeters.SUCCESS);
    lock.lock();
    try {
      switch (phase.state()) {
        case CLOSED -> {
          consecutive = 0;
          recordInWindow(false);
        }
        case OPEN -> {}
        case HALF_OPEN -> {
          if (trialsInFlight > 0) {
            trialsInFlight--;
            trialSuccesses++;
            if (trialSuccesses >= halfOpenCalls) {
              transition(State.CLOSED, 0);
            }
          }
        }
      }
    } finally {
      lock.unlock();
    }
    deliver();
  }

  /**
   * A permitted call failed with {@code error}: recorded as a failure if
   * {@link Builder#recordFailureWhen} says so, otherwise ignored (and in half-open its trial
   * permit is given back).
   */
  public void onError(Throwable error) {
    Objects.requireNonNull(error, "error must not be null");
    boolean failure = recordFailureWhen.test(error);
    count(failure ? BreakerMeters.FAILURE : BreakerMeters.IGNORED);
    lock.lock();
    try {
      switch (phase.state()) {
        case CLOSED -> {
          if (failure) {
            consecutive++;
            recordInWindow(true);
            @Nullable String why = tripReason();
            if (why != null) {
              transition(State.OPEN, ticker.read());
              log.debug("Circuit breaker '{}' opens: {}", name, why);
            }
          }
        }
        case OPEN -> {}
        case HALF_OPEN -> {
          if (trialsInFlight > 0) {
            trialsInFlight--;
            if (failure) {
              transition(State.OPEN, ticker.read());
            }
          }
        }
      }
    } finally {
      lock.unlock();
    }
    deliver();
  }

  /**
   * Gives back a permission whose call never ran (a later stage such as a bulkhead or rate gate
   * refused it); records nothing.
   */
  public void releasePermission() {
    count(BreakerMeters.RELEASED);
    lock.lock();
    try {
      if (phase.state() == State.HALF_OPEN && trialsInFlight > 0) {
        trialsInFlight--;
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Calls {@code task} if permitted, and records how it went.
   *
   * @return the task's value
   * @throws CallNotPermittedException if the breaker refused; the task was not called
   * @throws Exception what the task threw, unchanged
   */
  public <T extends @Nullable Object> T call(Callable<? extends T> task) throws Exception {
    Objects.requireNonNull(task, "task must not be null");
    if (!tryAcquirePermission()) {
      Phase p = phase;
      throw new CallNotPermittedException(name, p.state(), remaining(p));
    }
    T value;
    try {
      value = task.call();
    } catch (Throwable error) {
      onError(error);
      throw Throwables.sneakyThrow(error);
    }
    onSuccess();
    return value;
  }

  // ---------------------------------------------------------------------------------------------
  // State

  /** The current state; {@code OPEN} until a permission request after the open duration. */
  public State state() {
    return phase.state();
  }

  /** How long the breaker stays open by its ticker; {@link Duration#ZERO} unless open. */
  public Duration remainingOpen() {
    return remaining(phase);
  }

  private Duration remaining(Phase p) {
    if (p.state() != State.OPEN) {
      return Duration.ZERO;
    }
    long left = openNanos - (ticker.read() - p.since());
    return left <= 0 ? Duration.ZERO : Duration.ofNanos(left);
  }

  /** A consistent snapshot of the counts. */
  public Metrics metrics() {
    lock.lock();
    try {
      return new Metrics(
          phase.state(),
          windowCount,
          windowFailures,
          consecutive,
          trialsInFlight,
          trialSuccesses);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Forces the breaker closed with empty counts (an operator's reset); listeners are told if the
   * state changed.
   */
  public void reset() {
    lock.lock();
    try {
      transition(State.CLOSED, 0);
    } finally {
      lock.unlock();
    }
    deliver();
  }

  /** The name, for meters and messages. */
  public String name() {
    return name;
  }

  /** The failure-rate threshold in percent; 0 when the breaker has no failure-rate window. */
  public double failureRateThreshold() {
    return failureRateThreshold;
  }

  /** The size of the failure-rate window; 0 when the breaker has none. */
  public int windowSize() {
    return window == null ? 0 : windowSize;
  }

  /** Calls the window must hold before its failure rate counts; 0 without a window. */
  public int minimumCalls() {
    return window == null ? 0 : minimumCalls;
  }

  /** Failures in a row that open the breaker; 0 when not set. */
  public int consecutiveFailures() {
    return consecutiveFailures;
  }

  /** How long the breaker stays open before it lets trial calls through. */
  public Duration openDuration() {
    return openDuration;
  }

  /** How many trial calls half-open permits, all of which must succeed to close. */
  public int halfOpenCalls() {
    return halfOpenCalls;
  }

  @Override
  public String toString() {
    return "CircuitBreaker[name=" + name + ", state=" + phase.state() + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // Mechanics (all under lock)

  private void recordInWindow(boolean failed) {
    boolean[] w = window;
    if (w == null) {
      return;
    }
    if (windowCount == w.length) {
      if (w[windowNext]) {
        windowFailures--;
      }
    } else {
      windowCount++;
    }
    w[windowNext] = failed;
    if (failed) {
      windowFailures++;
    }
    windowNext = windowNext + 1 == w.length ? 0 : windowNext + 1;
  }

  /** Why the breaker must open now, or {@code null} if it need not. */
  private @Nullable String tripReason() {
    if (consecutiveFailures > 0 && consecutive >= consecutiveFailures) {
      return consecutive + " failures in a row";
    }
    if (window != null
        && windowCount >= minimumCalls
        && windowFailures * 100.0 >= failureRateThreshold * windowCount) {
      return windowFailures + " of the last " + windowCount + " calls failed";
    }
    return null;
  }

  private void transition(State to, long now) {
    State from = phase.state();
    phase = new Phase(to, now);
    windowNext = 0;
    windowCount = 0;
    windowFailures = 0;
    consecutive = 0;
    trialsInFlight = 0;
    trialSuccesses = 0;
    if (window != null) {
      Arrays.fill(window, false);
    }
    if (from == to) {
      return;
    }
    if (meters != null) {
      meters.transition(to);
    }
    pending.add(new Transition(from, to));
  }

  // ---------------------------------------------------------------------------------------------
  // Outside the lock

  /** Tells the listeners of pending transitions, in order, one delivering thread at a time. */
  private void deliver() {
    while (!pending.isEmpty() && delivering.compareAndSet(false, true)) {
      try {
        Transition t;
        while ((t = pending.poll()) != null) {
          if (t.to() == State.OPEN) {
            log.warn("Circuit breaker '{}': {} -> OPEN for {}", name, t.from(), openDuration);
          } else {
            log.info("Circuit breaker '{}': {} -> {}", name, t.from(), t.to());
          }
          for (CircuitBreakerListener listener : listeners) {
            try {
              listener.onStateChange(this, t.from(), t.to());
            } catch (RuntimeException e) {
              log.warn("Circuit breaker '{}': listener {} failed", name, listener, e);
            }
          }
        }
      } finally {
        delivering.set(false);
      }
    }
  }

  private void notPermitted() {
    count(BreakerMeters.NOT_PERMITTED);
  }

  private void count(int outcome) {
    if (meters != null) {
      meters.call(outcome);
    }
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Builder

  /** Builds a {@link CircuitBreaker}; every setting is optional. Not thread-safe. */
  public static final class Builder {
    private String name = "default";
    private double failureRateThreshold; // 0 = not set
    private int windowSize;
    private int minimumCalls;
    private int consecutiveFailures; // 0 = not set
    private Duration openDuration = DEFAULT_OPEN;
    private int halfOpenCalls = DEFAULT_HALF_OPEN_CALLS;
    private Predicate<? super Throwable> recordFailureWhen = DEFAULT_RECORD_FAILURE;
    private Ticker ticker = Ticker.systemTicker();
    private final List<CircuitBreakerListener> listeners = new ArrayList<>();
    private @Nullable MeterRegistry registry;

    private Builder() {}

    /** The name for the {@code name} meter tag, logs and messages; {@code default} unless set. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name must not be null");
      this.name = Names.nonBlank(name);
      return this;
    }

    /**
     * Opens the breaker when at least {@code percent} of the last {@code windowSize} recorded
     * calls failed, once at least {@code minimumCalls} calls are recorded (a count-based sliding
     * window). Unless this or {@link #consecutiveFailures} is set: 50% over 20 calls, minimum 10.
     *
     * @throws IllegalArgumentException if {@code percent} is not in {@code (0, 100]},
     *     {@code windowSize < 1}, or {@code minimumCalls} is not between 1 and {@code windowSize}
     */
    public Builder failureRateThreshold(double percent, int windowSize, int minimumCalls) {
      if (!(percent > 0 && percent <= 100)) {
        throw new IllegalArgumentException(
            "failureRateThreshold percent must be in (0, 100], was " + percent);
      }
      if (windowSize < 1) {
        throw new IllegalArgumentException("windowSize must be at least 1, was " + windowSize);
      }
      if (minimumCalls < 1 || minimumCalls > windowSize) {
        throw new IllegalArgumentException(
            "minimumCalls must be between 1 and windowSize (" + windowSize + "), was " + minimumCalls);
      }
      this.failureRateThreshold = percent;
      this.windowSize = windowSize;
      this.minimumCalls = minimumCalls;
      return this;
    }

    /**
     * Opens the breaker after {@code n} failures in a row while closed (ignored errors do not
     * break the run; a success does). Combines with {@link #failureRateThreshold}: whichever
     * trips first opens it. Set alone, the breaker has no failure-rate window.
     *
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public Builder consecutiveFailures(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("consecutiveFailures must be at least 1, was " + n);
      }
      this.consecutiveFailures = n;
      return this;
    }

    /**
     * How long the breaker stays open before it permits trial calls; 30 s unless set.
     *
     * @throws IllegalArgumentException if {@code openDuration} is zero or negative
     */
    public Builder openDuration(Duration openDuration) {
      Objects.requireNonNull(openDuration, "openDuration must not be null");
      if (openDuration.isNegative() || openDuration.isZero()) {
        throw new IllegalArgumentException("openDuration must be positive, was " + openDuration);
      }
      this.openDuration = openDuration;
      return this;
    }

    /**
     * How many trial calls half-open permits (at once and in all); all must succeed to close, and
     * any failure opens the breaker again. 3 unless set.
     *
     * @throws IllegalArgumentException if {@code halfOpenCalls < 1}
     */
    public Builder halfOpenCalls(int halfOpenCalls) {
      if (halfOpenCalls < 1) {
        throw new IllegalArgumentException(
            "halfOpenCalls must be at least 1, was " + halfOpenCalls);
      }
      this.halfOpenCalls = halfOpenCalls;
      return this;
    }

    /**
     * Which errors count as failures; the others are ignored (neither success nor failure). By
     * default every {@link Exception} except {@link ThrottledException} (anywhere in the cause
     * chain), {@link InterruptedException} and {@link CancellationException}. The predicate runs
     * on the thread that reports the error, outside the breaker's lock.
     */
    public Builder recordFailureWhen(Predicate<? super Throwable> recordFailureWhen) {
      this.recordFailureWhen =
          Objects.requireNonNull(recordFailureWhen, "recordFailureWhen must not be null");
      return this;
    }

    /** The clock the open duration is measured on; the system's unless set. */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker must not be null");
      return this;
    }

    /** Adds a listener told of each state transition. */
    public Builder listener(CircuitBreakerListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener must not be null"));
      return this;
    }

    /**
     * Publishes {@code fanout.breaker.state} (gauge, tag {@code state}), {@code
     * fanout.breaker.calls} (counter, tag {@code outcome=success|failure|ignored|not_permitted|
     * released}) and {@code fanout.breaker.transitions} (counter, tag {@code to}), all tagged
     * {@code name}, to {@code registry}.
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry must not be null");
      return this;
    }

    /** Builds the breaker, closed. */
    public CircuitBreaker build() {
      return new CircuitBreaker(this);
    }
  }
}
