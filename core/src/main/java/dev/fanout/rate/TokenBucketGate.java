package dev.fanout.rate;

import dev.fanout.internal.GateMeters;
import dev.fanout.time.Sleeper;
import dev.fanout.time.Ticker;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The reservation-based token bucket behind {@link RateGate#spacing}, {@link RateGate#perSecond}
 * and {@link AdaptiveRateGate}: the generic cell rate algorithm (GCRA) with reservations.
 *
 * <p>State is one number, {@code tat} (theoretical arrival time): the time at which the bucket
 * would be full again if nobody else came. A caller arriving at {@code now} computes
 * <pre>
 *   base  = max(tat, now)
 *   grant = max(now, base - tolerance)      tolerance = (burst - 1) * interval
 *   tat'  = base + interval
 * </pre>
 * installs {@code tat'} with one compare-and-set and waits until {@code grant}. Because {@code tat}
 * grows by at least {@code interval} per permit, any two permits {@code i < j} (in CAS order) have
 * {@code grant_j >= grant_i + (j - i) * interval - tolerance}, so a window of length {@code t}
 * holds at most {@code burst + t / interval} grants, whatever the interleaving and even with stale
 * readings of {@code now}. Waiters' grants increase in CAS order: first come, first served.
 *
 * <p>Times are kept relative to the gate's creation ({@code origin}) so that {@link #RETIRED} can
 * never be a real time. {@code tat == RETIRED} marks a gate evicted by {@link KeyedRateGates}: it
 * takes no more reservations and forwards callers to its key's live gate, so a caller holding an
 * evicted gate cannot add permits beside the live one. A gate is only retired when
 * {@code tat <= now}: its bucket is full and nobody waits for a future slot, which is exactly the
 * state of a new gate, so eviction never lets extra permits through.
 */
final class TokenBucketGate implements RateGate {
  static final long RETIRED = Long.MIN_VALUE;

  /** What {@link #acquireAt} returns when the slot is further away than the timeout. */
  static final long REFUSED = Long.MIN_VALUE;

  private static final VarHandle TAT;
  private static final VarHandle PARAMS;
  private static final VarHandle SUCCESSOR;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      TAT = lookup.findVarHandle(TokenBucketGate.class, "tat", long.class);
      PARAMS = lookup.findVarHandle(TokenBucketGate.class, "params", Params.class);
      SUCCESSOR = lookup.findVarHandle(TokenBucketGate.class, "successor", Supplier.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * The rate, as read by one reservation. Replaced as a whole by {@link AdaptiveRateGate}, so a
   * reservation never mixes an old interval with a new tolerance.
   *
   * @param rate permits per second as configured (for adaptive gates and {@code toString})
   * @param interval nanoseconds per permit, at least 1
   * @param tolerance {@code (burst - 1) * interval}
   * @param lastDecrease ticker time of the last throttling decrease ({@link AdaptiveRateGate});
   *     {@link Long#MIN_VALUE} if none
   */
  record Params(double rate, long interval, long tolerance, long lastDecrease) {
    static Params of(double rate, long interval, int burst, long lastDecrease) {
      return new Params(rate, interval, (burst - 1) * interval, lastDecrease);
    }
  }

  private final Ticker ticker;
  private final Sleeper sleeper;
  private final long origin;
  private final int burst;
  private final String name;
  private final @Nullable GateMeters meters;
  /** Eviction is refused while {@code params.rate} is below this (adaptive gates keep learning). */
  private final double evictableFromRate;

  @SuppressWarnings("unused") // accessed through PARAMS
  private volatile Params params;

  @SuppressWarnings("unused") // accessed through TAT
  private volatile long tat;

  /** Where a retired gate sends its callers; set once, by {@link KeyedRateGates}, before use. */
  @SuppressWarnings("unused") // written through SUCCESSOR
  private volatile @Nullable Supplier<? extends RateGate> successor;

  TokenBucketGate(
      RateGate.Limit limit,
      Ticker ticker,
      Sleeper sleeper,
      String name,
      @Nullable MeterRegistry registry) {
    this(
        Params.of(1e9 / limit.intervalNanos(), limit.intervalNanos(), limit.burst(), Long.MIN_VALUE),
        limit.burst(),
        0.0,
        ticker,
        sleeper,
        name,
        registry);
  }

  TokenBucketGate(
      Params params,
      int burst,
      double evictableFromRate,
      Ticker ticker,
      Sleeper sleeper,
      String name,
      @Nullable MeterRegistry registry) {
    this.params = params;
    this.burst = burst;
    this.evictableFromRate = evictableFromRate;
    this.ticker = ticker;
    this.sleeper = sleeper;
    this.name = name;
    this.meters = registry == null ? null : new GateMeters(registry, name);
    this.origin = ticker.read();
    this.tat = 0; // a full bucket: the first `burst` callers pass at once
  }

  @Override
  public void acquire() throws InterruptedException {
    acquireAt(Long.MAX_VALUE);
  }

  @Override
  public boolean tryAcquire(Duration timeout) throws InterruptedException {
    return acquireAt(timeoutNanos(timeout)) != REFUSED;
  }

  @Override
  public boolean tryAcquire() {
    long now = ticker.read() - origin;
    long current;
    long next;
    do {
      current = (long) TAT.getVolatile(this);
      if (current == RETIRED) {
        return forward().tryAcquire();
      }
      Params p = (Params) PARAMS.getVolatile(this);
      long base = Math.max(current, now);
      if (base - p.tolerance > now) {
        if (meters != null) {
          meters.timedOut();
        }
        return false;
      }
      next = base + p.interval;
    } while (!TAT.compareAndSet(this, current, next));
    if (meters != null) {
      meters.waited(0);
    }
    return true;
  }

  /**
   * Reserves the next slot if it comes within {@code timeoutNanos} and waits for it.
   *
   * @return the ticker time the permit was granted for, or {@link #REFUSED}
   */
  long acquireAt(long timeoutNanos) throws InterruptedException {
    long now = ticker.read() - origin;
    long current;
    long base;
    long grant;
    long next;
    do {
      current = (long) TAT.getVolatile(this);
      if (current == RETIRED) {
        return forwardAt(timeoutNanos);
      }
      Params p = (Params) PARAMS.getVolatile(this);
      base = Math.max(current, now);
      grant = Math.max(now, base - p.tolerance);
      if (grant - now > timeoutNanos) {
        if (meters != null) {
          meters.timedOut();
        }
        return REFUSED;
      }
      next = base + p.interval;
    } while (!TAT.compareAndSet(this, current, next));

    long wait = grant - now;
    if (wait > 0) {
      awaitSlot(wait, grant, base, next);
    }
    if (meters != null) {
      meters.waited(wait);
    }
    return origin + grant;
  }

  private long forwardAt(long timeoutNanos) throws InterruptedException {
    RateGate live = forward();
    TokenBucketGate core = coreOf(live);
    if (core != null) {
      return core.acquireAt(timeoutNanos);
    }
    if (timeoutNanos == Long.MAX_VALUE) {
      live.acquire();
      return ticker.read();
    }
    return live.tryAcquire(Duration.ofNanos(timeoutNanos)) ? ticker.read() : REFUSED;
  }

  /** The token bucket inside {@code gate}, or {@code null} if it has none. */
  static @Nullable TokenBucketGate coreOf(RateGate gate) {
    if (gate instanceof TokenBucketGate core) {
      return core;
    }
    if (gate instanceof AdaptiveRateGate adaptive) {
      return adaptive.core();
    }
    return null;
  }

  private void awaitSlot(long wait, long grant, long base, long next) throws InterruptedException {
    long remaining = wait;
    try {
      do {
        sleeper.sleep(remaining);
        remaining = grant - (ticker.read() - origin);
      } while (remaining > 0);
    } catch (InterruptedException e) {
      // Give the slot back only if nobody reserved after us: restoring `base` (>= the tat we
      // replaced) is then as if we never came. Otherwise the slot stays consumed and unused.
      TAT.compareAndSet(this, next, base);
      throw e;
    }
  }

  private static long timeoutNanos(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout must not be null");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative, was " + timeout);
    }
    // Anything past ~292 years is forever; Long.MAX_VALUE - 1 keeps tryAcquire's semantics.
    return timeout.compareTo(Duration.ofNanos(Long.MAX_VALUE - 1)) >= 0
        ? Long.MAX_VALUE - 1
        : timeout.toNanos();
  }

  // ---------------------------------------------------------------------------------------------
  // For AdaptiveRateGate and KeyedRateGates

  Params params() {
    return (Params) PARAMS.getVolatile(this);
  }

  boolean compareAndSetParams(Params expected, Params update) {
    return PARAMS.compareAndSet(this, expected, update);
  }

  int burst() {
    return burst;
  }

  Ticker ticker() {
    return ticker;
  }

  /**
   * Retires this gate if it is idle: its next free slot has passed (nobody waits) and, for an
   * adaptive gate, it has learned nothing worth keeping. A retired gate forwards to its successor.
   */
  boolean retireIfIdle() {
    long now = ticker.read() - origin;
    long current = (long) TAT.getVolatile(this);
    return current != RETIRED
        && current <= now
        && params().rate >= evictableFromRate
        && TAT.compareAndSet(this, current, RETIRED);
  }

  boolean isRetired() {
    return (long) TAT.getVolatile(this) == RETIRED;
  }

  /**
   * Hands this gate to a keyed owner that will send callers to {@code successor} once it is
   * retired.
   *
   * @throws IllegalArgumentException if another owner took it already
   */
  void adopt(Supplier<? extends RateGate> successor, Object key) {
    if (!SUCCESSOR.compareAndSet(this, (Supplier<?>) null, successor)) {
      throw new IllegalArgumentException(
          "the gate factory must return a new gate for each key, but " + this
              + " was returned again for key " + key);
    }
  }

  /** The live gate for this retired gate's key. */
  RateGate forward() {
    Supplier<? extends RateGate> s = successor;
    if (s == null) {
      throw new IllegalStateException("gate " + this + " was retired without an owner");
    }
    return s.get();
  }

  @Override
  public String toString() {
    Params p = params();
    return "RateGate[name="
        + name
        + ", perSecond="
        + p.rate
        + ", burst="
        + burst
        + (isRetired() ? ", evicted" : "")
        + "]";
  }
}
