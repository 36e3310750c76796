package dev.fanout.rate;

import dev.fanout.internal.Names;
import dev.fanout.time.Sleeper;
import dev.fanout.time.Ticker;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Lets callers through at a bounded rate: where a {@link java.util.concurrent.Semaphore} bounds how
 * many run <em>at once</em>, a gate bounds how many <em>start per unit of time</em>, as Guava's
 * {@code RateLimiter} does, but exactly and fairly.
 *
 * {@snippet :
 * RateGate gate = RateGate.spacing(Duration.ofMillis(100));
 * for (String account : accounts) {
 *   gate.acquire();               // at most one call per 100 ms
 *   scan(account);
 * }
 * }
 *
 * <h2>Kinds</h2>
 *
 * <ul>
 *   <li>{@link #spacing(Duration) spacing(interval)}: at most one permit per interval.
 *   <li>{@link #perSecond(double, int) perSecond(rate, burst)}: a token bucket holding up to
 *       {@code burst} permits, refilled at {@code rate} per second; it starts full.
 *   <li>{@link #unlimited()}: lets everyone through at once.
 *   <li>{@link AdaptiveRateGate}: a token bucket whose rate follows the server's throttling.
 * </ul>
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li><b>Exact on return times</b>: in any window of length {@code t}, at most
 *       {@code burst + rate * t} calls return from {@link #acquire()} (or a successful
 *       {@code tryAcquire}); for spacing, consecutive returns are at least one interval apart.
 *       A permit is taken at the clock reading after the wait, so a thread that wakes late takes
 *       its permit late and pushes the next ones back: what the protected service sees keeps the
 *       bound, not only the plan. The interval is a whole number of nanoseconds rounded up, so
 *       the rate is never exceeded (above a million permits per second it may run a little
 *       under). Resilience4j's fixed-window limiter lets twice its limit through across a window
 *       boundary; Guava's runs a few percent over.
 *   <li><b>Fair</b>: callers whose permit is not due wait in line, in arrival order, on a fair
 *       lock; only the head of the line sleeps, the others are parked until their turn (no
 *       thundering herd), and a newcomer never overtakes a waiter. While nobody waits, taking a
 *       permit is lock-free: one clock reading and one compare-and-set.
 *   <li><b>Interruptible</b>: {@link #acquire()} and {@link #tryAcquire(Duration)} throw
 *       {@link InterruptedException} when interrupted while waiting; the interrupted caller takes
 *       nothing and the next waiter moves up.
 *   <li><b>Virtual-thread friendly</b>: waits go through the gate's {@link Sleeper} (by default
 *       {@link Thread#sleep}) and a {@code java.util.concurrent} lock, so a waiting virtual
 *       thread unmounts; nothing pins a carrier.
 * </ul>
 *
 * {@link #tryAcquire(Duration)} refuses at once, taking nothing, when the permit (counting the
 * waiters ahead) cannot come within the timeout. The bound is on the gate's clock reading when a
 * permit is taken, just before the call returns; no gate can bound how late a descheduled caller
 * then reaches the service. Time comes from the gate's {@link Ticker}, so tests can drive it by
 * hand (see {@link #builder()}).
 *
 * <p>Memory consistency: none beyond what {@link Thread#sleep} gives; a gate orders starts in
 * time, not memory.
 */
public interface RateGate {

  /**
   * Takes a permit, waiting for its slot if need be.
   *
   * @throws InterruptedException if interrupted while waiting (see the class documentation for
   *     what happens to the slot)
   */
  void acquire() throws InterruptedException;

  /**
   * Takes a permit if its slot comes within {@code timeout}, waiting for it; otherwise takes
   * nothing and returns {@code false} at once.
   *
   * @throws InterruptedException if interrupted while waiting
   * @throws IllegalArgumentException if {@code timeout} is negative
   */
  boolean tryAcquire(Duration timeout) throws InterruptedException;

  /** Takes a permit if one is free now, without waiting. */
  boolean tryAcquire();

  /**
   * At most one permit per {@code interval}, as {@link dev.fanout.ParallelConfig#rateSpacing()}
   * asks of a pool. {@link Duration#ZERO} means no limit and
   * returns {@link #unlimited()}.
   *
   * @throws IllegalArgumentException if {@code interval} is negative
   */
  static RateGate spacing(Duration interval) {
    return builder().spacing(interval).build();
  }

  /**
   * A token bucket: up to {@code burst} permits at once, refilled at {@code permitsPerSecond}.
   * In any window of length {@code t} at most {@code burst + permitsPerSecond * t} pass.
   *
   * @throws IllegalArgumentException if the rate is not positive and finite, or {@code burst < 1}
   */
  static RateGate perSecond(double permitsPerSecond, int burst) {
    return builder().perSecond(permitsPerSecond, burst).build();
  }

  /** A gate that never waits. */
  static RateGate unlimited() {
    return UnlimitedGate.INSTANCE;
  }

  /**
   * A builder for a gate with a name, meters, or an injected clock.
   *
   * {@snippet :
   * RateGate gate = RateGate.builder()
   *     .perSecond(20, 5)
   *     .name("eks")
   *     .meterRegistry(registry)   // fanout.rate.wait, fanout.rate.timeouts, tag name=eks
   *     .build();
   * }
   */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Builds a {@link RateGate}. Set the limit with {@link #spacing} or {@link #perSecond}; the rest
   * is optional. Not thread-safe.
   */
  final class Builder {
    private @Nullable Limit limit;
    private Ticker ticker = Ticker.systemTicker();
    private Sleeper sleeper = Sleeper.systemSleeper();
    private String name = "default";
    private @Nullable MeterRegistry registry;

    private Builder() {}

    /**
     * At most one permit per {@code interval}; {@link Duration#ZERO} for no limit.
     *
     * @throws IllegalArgumentException if {@code interval} is negative or longer than
     *     {@link Limit#MAX_INTERVAL}
     */
    public Builder spacing(Duration interval) {
      this.limit = Limit.spacing(interval);
      return this;
    }

    /**
     * Up to {@code burst} permits at once, refilled at {@code permitsPerSecond}.
     *
     * @throws IllegalArgumentException if the rate is not positive and finite (or so small that
     *     one interval exceeds {@link Limit#MAX_INTERVAL}), or {@code burst < 1}
     */
    public Builder perSecond(double permitsPerSecond, int burst) {
      this.limit = Limit.perSecond(permitsPerSecond, burst);
      return this;
    }

    /** The clock the gate reads; the system's unless set. */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker must not be null");
      return this;
    }

    /** How the gate waits; {@link Thread#sleep} unless set. */
    public Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper must not be null");
      return this;
    }

    /** The name for the {@code name} meter tag and {@code toString}; {@code default} unless set. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name must not be null");
      this.name = Names.nonBlank(name);
      return this;
    }

    /**
     * Publishes {@code fanout.rate.wait} (timer) and {@code fanout.rate.timeouts} (counter),
     * tagged {@code name}, to {@code registry}.
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry must not be null");
      return this;
    }

    /**
     * Builds the gate.
     *
     * @throws IllegalStateException if no limit was set
     */
    public RateGate build() {
      Limit l = limit;
      if (l == null) {
        throw new IllegalStateException(
            "no limit set: call spacing(interval) or perSecond(rate, burst) before build()");
      }
      if (l.unlimited()) {
        return UnlimitedGate.INSTANCE;
      }
      return new TokenBucketGate(l, ticker, sleeper, name, registry);
    }
  }

  /**
   * A validated rate limit in whole nanoseconds: one permit per {@code intervalNanos}, up to
   * {@code burst} at once.
   *
   * @param intervalNanos nanoseconds between permits at the steady rate; 0 means no limit
   * @param burst permits the bucket holds, at least 1
   */
  record Limit(long intervalNanos, int burst) {
    /** The longest interval between two permits: about 11.6 days (10^15 ns). */
    public static final Duration MAX_INTERVAL = Duration.ofNanos(1_000_000_000_000_000L);

    /** Validates; see {@link Builder#spacing} and {@link Builder#perSecond}. */
    public Limit {
      if (intervalNanos < 0 || intervalNanos > MAX_INTERVAL.toNanos()) {
        throw new IllegalArgumentException(
            "interval must be between 0 and " + MAX_INTERVAL + ", was " + intervalNanos + " ns");
      }
      if (burst < 1) {
        throw new IllegalArgumentException("burst must be at least 1, was " + burst);
      }
      if ((double) burst * intervalNanos > MAX_BURST_NANOS) {
        throw new IllegalArgumentException(
            "burst * interval must be at most 10^18 ns (about 31 years), was burst="
                + burst
                + " * interval="
                + intervalNanos
                + " ns");
      }
    }

    /** Bound on {@code burst * interval}: keeps all slot arithmetic far from overflow. */
    private static final double MAX_BURST_NANOS = 1e18;

    static Limit spacing(Duration interval) {
      Objects.requireNonNull(interval, "interval must not be null (Duration.ZERO means none)");
      if (interval.isNegative()) {
        throw new IllegalArgumentException("interval must not be negative, was " + interval);
      }
      if (interval.compareTo(MAX_INTERVAL) > 0) {
        throw new IllegalArgumentException(
            "interval must be at most " + MAX_INTERVAL + ", was " + interval);
      }
      return new Limit(interval.toNanos(), 1);
    }

    static Limit perSecond(double permitsPerSecond, int burst) {
      if (!(permitsPerSecond > 0) || Double.isInfinite(permitsPerSecond)) {
        throw new IllegalArgumentException(
            "permitsPerSecond must be positive and finite, was " + permitsPerSecond);
      }
      if (burst < 1) {
        throw new IllegalArgumentException("burst must be at least 1, was " + burst);
      }
      return new Limit(intervalNanos(permitsPerSecond), burst);
    }

    /** One permit's interval, rounded up so that the rate is never exceeded; at least 1 ns. */
    static long intervalNanos(double permitsPerSecond) {
      double nanos = Math.ceil(1e9 / permitsPerSecond);
      if (nanos > MAX_INTERVAL.toNanos()) {
        throw new IllegalArgumentException(
            "permitsPerSecond must be at least "
                + (1e9 / MAX_INTERVAL.toNanos())
                + " (one permit per "
                + MAX_INTERVAL
                + "), was "
                + permitsPerSecond);
      }
      long interval = Math.max(1, (long) nanos);
      // 1e9 / rate was rounded to the nearest double, possibly down: make sure that
      // interval * rate >= 1e9 holds exactly (fma rounds once, so its sign is exact).
      while (Math.fma((double) interval, permitsPerSecond, -1e9) < 0) {
        interval++;
      }
      return interval;
    }

    /** Whether this limit lets everything through. */
    public boolean unlimited() {
      return intervalNanos == 0;
    }

    /** The steady rate in permits per second; infinite when unlimited. */
    public double permitsPerSecond() {
      return intervalNanos == 0 ? Double.POSITIVE_INFINITY : 1e9 / intervalNanos;
    }
  }
}
