package dev.fanout.rate;

import dev.fanout.internal.GateMeters;
import dev.fanout.time.Sleeper;
import dev.fanout.time.Ticker;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The token bucket behind {@link RateGate#spacing}, {@link RateGate#perSecond} and
 * {@link AdaptiveRateGate}: the generic cell rate algorithm (GCRA) applied to the times permits
 * are <em>taken</em>, not to planned slots.
 *
 * <p>State is one number, {@code tat} (theoretical arrival time): the time at which the bucket
 * would be full again if nobody else came. A permit is taken at the ticker reading {@code now}
 * only if it is due, and then {@code tat} moves on with one compare-and-set:
 * <pre>
 *   due  : now >= tat - tolerance          tolerance = (burst - 1) * interval
 *   tat' = max(tat, now) + interval
 * </pre>
 * Because {@code tat} grows by at least {@code interval} per permit and each permit's reading
 * passed the check against the {@code tat} it replaced, any two permits {@code i < j} (in CAS
 * order) have {@code now_j >= now_i + (j - i) * interval - tolerance}: a window of length
 * {@code t} holds at most {@code burst + t / interval} readings, whatever the interleaving, however
 * late a waiter wakes (its reading is taken after it wakes, so it pushes its successors back) and
 * even with stale readings. The reading is taken just before the compare-and-set that commits it;
 * the caller returns right after.
 *
 * <p>A caller whose permit is not due waits in line: a fair {@link ReentrantLock} orders the
 * waiters. The head of the line sleeps, holding the lock (a {@code java.util.concurrent} lock, so a
 * virtual thread unmounts), until its permit is due, checks again and takes it; the others are
 * parked in arrival order and not woken until it is their turn. The fast path, taken when nobody
 * waits, is lock-free: one ticker reading and one compare-and-set.
 *
 * <p>Times are kept relative to the gate's creation ({@code origin}) so that {@link #RETIRED} can
 * never be a real time. {@code tat == RETIRED} marks a gate evicted by {@link KeyedRateGates}: it
 * takes no more permits and forwards callers to its key's live gate, so a caller holding an
 * evicted gate cannot add permits beside the live one. A gate is only retired when
 * {@code tat <= now} and nobody waits: its bucket is full, which is exactly the state of a new
 * gate, so eviction never lets extra permits through.
 */
final class TokenBucketGate implements RateGate {
  static final long RETIRED = Long.MIN_VALUE;

  /** What {@link #acquireAt} returns when the slot is further away than the timeout. */
  static final long REFUSED = Long.MIN_VALUE;

  /** Timeouts from here on (about 146 years) wait as long as it takes. */
  private static final long FOREVER = Long.MAX_VALUE / 2;

  /** What {@link #takeIfDue} returns when no permit is due now. */
  private static final long NOT_DUE = Long.MIN_VALUE;

  /** What {@link #takeIfDue} returns when the gate is retired. */
  private static final long FORWARD = Long.MIN_VALUE + 1;

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

  /** How much of a wait the head of the line spins instead of sleeping; see the wait loop. */
  static final long SPIN_NANOS = 150_000;

  private final Ticker ticker;
  private final Sleeper sleeper;
  /**
   * Whether the gate runs on the system's clock and sleeper, whose wake-ups come late by the OS
   * timer slack: then the last {@link #SPIN_NANOS} of a wait are spun rather than slept.
   */
  private final boolean spinsLastStretch;
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

  /** The line of callers whose permit is not due yet; fair, so served in arrival order. */
  private final ReentrantLock line = new ReentrantLock(true);

  /** Serializes {@link #compareAndSetParams}; held for a few reads and writes, never to wait. */
  private final ReentrantLock rateChange = new ReentrantLock();

  /**
   * Set while a slower rate is being installed: a caller that sees it waits for
   * {@link #rateChange} instead of taking a permit at a rate that is on its way out.
   */
  private volatile boolean slowingDown;

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
    this.spinsLastStretch = sleeper == Sleeper.systemSleeper() && ticker == Ticker.systemTicker();
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
    long taken = takeIfDue(true);
    if (taken == FORWARD) {
      return forward().tryAcquire();
    }
    if (taken == NOT_DUE) {
      if (meters != null) {
        meters.timedOut();
      }
      return false;
    }
    if (meters != null) {
      meters.waited(0);
    }
    return true;
  }

  /**
   * Takes a permit if it comes within {@code timeoutNanos}, waiting for it.
   *
   * @return the ticker reading at which the permit was taken, or {@link #REFUSED}
   */
  long acquireAt(long timeoutNanos) throws InterruptedException {
    long taken = takeIfDue(true);
    if (taken == FORWARD) {
      return forwardAt(timeoutNanos);
    }
    if (taken != NOT_DUE) {
      if (meters != null) {
        meters.waited(0);
      }
      return origin + taken;
    }
    return waitInLine(timeoutNanos);
  }

  /**
   * Takes a permit at the current reading if one is due.
   *
   * <p>The clock is read first and the compare-and-set follows the read of the owed time at once,
   * which keeps the window in which other callers can make it fail short. A permit is refused only
   * on a reading taken after the owed time was read (else permits taken meanwhile at later
   * readings would make a free permit look taken). A caller from outside the line
   * ({@code behindLine}) then yields to anyone in line: the line is checked after the reading, so
   * a waiter that was in line at that reading is never overtaken, even if this caller was held up
   * since it came.
   *
   * @param behindLine whether to take nothing while somebody waits in line (all but the line's
   *     head, which holds its lock)
   * @return the reading (relative to {@code origin}), {@link #NOT_DUE} or {@link #FORWARD}
   */
  private long takeIfDue(boolean behindLine) {
    while (true) {
      long now = ticker.read() - origin;
      long current = (long) TAT.getVolatile(this);
      if (current == RETIRED) {
        return FORWARD;
      }
      if (slowingDown) {
        awaitRateChange();
        continue;
      }
      Params p = (Params) PARAMS.getVolatile(this);
      if (current - p.tolerance > now) {
        if (current - p.tolerance <= ticker.read() - origin) {
          continue; // the reading was older than the owed time: look again with a fresh one
        }
        return NOT_DUE;
      }
      if (behindLine && line.isLocked()) {
        return NOT_DUE;
      }
      if (TAT.compareAndSet(this, current, Math.max(current, now) + p.interval)) {
        return now;
      }
    }
  }

  private long waitInLine(long timeoutNanos) throws InterruptedException {
    long arrival = ticker.read() - origin;
    long deadline = timeoutNanos >= FOREVER ? Long.MAX_VALUE : arrival + timeoutNanos;
    if (timeoutNanos == Long.MAX_VALUE) {
      line.lockInterruptibly();
    } else if (expectedTurn(arrival) > deadline
        || !line.tryLock(timeoutNanos, TimeUnit.NANOSECONDS)) {
      return refused();
    }
    try {
      while (true) {
        long taken = takeIfDue(false);
        if (taken == FORWARD) {
          break; // retired while we waited: the key's live gate takes over, outside this line
        }
        if (taken != NOT_DUE) {
          if (meters != null) {
            meters.waited(Math.max(0, taken - arrival));
          }
          return origin + taken;
        }
        long due = (long) TAT.getVolatile(this) - params().tolerance;
        if (due > deadline) {
          return refused();
        }
        // Waking early or late is harmless: the permit is taken only once due, at the reading
        // taken then, so a late wake pushes the next permits back instead of crowding them. A
        // system sleep wakes up to ~0.1 ms late (the timer slack), which at a 1 ms spacing would
        // cost a tenth of the rate: the line's head sleeps until shortly before its permit is
        // due and spins the rest.
        long wait = due - (ticker.read() - origin);
        if (wait > 0) {
          if (!spinsLastStretch) {
            sleeper.sleep(wait);
          } else if (wait > SPIN_NANOS) {
            sleeper.sleep(wait - SPIN_NANOS);
          } else {
            Thread.onSpinWait();
            if (Thread.interrupted()) {
              throw new InterruptedException();
            }
          }
        }
      }
    } finally {
      line.unlock();
    }
    long now = ticker.read() - origin;
    return forwardAt(deadline == Long.MAX_VALUE ? timeoutNanos : Math.max(0, deadline - now));
  }

  /** When a caller arriving at {@code arrival} can expect its permit, given the line ahead. */
  private long expectedTurn(long arrival) {
    long current = (long) TAT.getVolatile(this);
    if (current == RETIRED) {
      return arrival;
    }
    Params p = params();
    long ahead = line.getQueueLength() + (line.isLocked() ? 1 : 0);
    long start = Math.max(arrival, current - p.tolerance);
    return ahead >= (FOREVER - Math.max(0, start)) / p.interval
        ? Long.MAX_VALUE
        : start + ahead * p.interval;
  }

  private long refused() {
    if (meters != null) {
      meters.timedOut();
    }
    return REFUSED;
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

  /**
   * Installs {@code update} if the rate is still {@code expected}. A slower rate has a larger
   * tolerance, which alone would let a bucket that is not full pass permits at once, above the
   * old rate; so the owed time ({@code tat}) first moves on by the growth of the tolerance: the
   * next permit stays due when it was, and the ones after it come at the new rate. Moving
   * {@code tat} comes first, so a caller that reads it with the old rate only waits longer.
   *
   * <p>Rate changes are serialized by a lock of their own (never held while waiting): {@code tat}
   * moves only for the update that is installed. While a slower rate is installed, callers of the
   * gate wait the few steps it takes (the only time they take that lock), so no permit is taken
   * at the old rate after {@code tat} was moved for the new one, nor refused in between. Without it, every change that lost the race to install would still
   * have moved {@code tat}, so throttling signals arriving together (which is how they arrive)
   * would each have pushed the next permit back once more.
   */
  boolean compareAndSetParams(Params expected, Params update) {
    rateChange.lock();
    try {
      if (PARAMS.getVolatile(this) != expected) {
        return false;
      }
      long growth = update.tolerance - expected.tolerance;
      if (growth <= 0) {
        // A faster rate: a permit taken meanwhile at the old rate only owes more than it must.
        PARAMS.setVolatile(this, update);
        return true;
      }
      slowingDown = true;
      try {
        // Move tat on, always to a new value: a caller that read tat before this and took a
        // permit at the old rate then fails its compare-and-set and looks again (and waits for
        // the change, see takeIfDue); one that took its permit first is counted in the tat
        // moved here. Either way the permit is as if taken before or after the change.
        long now = ticker.read() - origin;
        long current;
        long moved;
        do {
          current = (long) TAT.getVolatile(this);
          if (current == RETIRED) {
            break;
          }
          // A full bucket owes nothing and may pass a burst at either rate: it stays full.
          moved = current > now ? current + growth : Math.max(now, current + 1);
        } while (!TAT.compareAndSet(this, current, moved));
        PARAMS.setVolatile(this, update);
      } finally {
        slowingDown = false;
      }
      return true;
    } finally {
      rateChange.unlock();
    }
  }

  /** Waits for a rate change in progress to end; it holds its lock for a few steps only. */
  private void awaitRateChange() {
    rateChange.lock();
    rateChange.unlock();
  }

  int burst() {
    return burst;
  }

  Ticker ticker() {
    return ticker;
  }

  /**
   * Retires this gate if it is idle: its next free slot has passed and nobody waits and, for an
   * adaptive gate, it has learned nothing worth keeping. A retired gate forwards to its successor.
   */
  boolean retireIfIdle() {
    long now = ticker.read() - origin;
    long current = (long) TAT.getVolatile(this);
    return current != RETIRED
        && current <= now
        && !line.isLocked()
        && params().rate >= evictableFromRate
        && TAT.compareAndSet(this, current, RETIRED);
  }

  /** How many callers wait in line (the one asleep at its head included). */
  int waiting() {
    return line.getQueueLength() + (line.isLocked() ? 1 : 0);
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
