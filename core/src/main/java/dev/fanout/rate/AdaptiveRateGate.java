package dev.fanout.rate;

import dev.fanout.internal.Names;
import dev.fanout.time.Sleeper;
import dev.fanout.time.Ticker;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A token-bucket {@link RateGate} whose rate follows the server: each throttling signal
 * ({@link #onThrottle()}) multiplies the rate by {@code decreaseFactor} (multiplicative decrease),
 * each success ({@link #onSuccess()}) adds a little (additive increase), always between
 * {@code floor} and {@code ceiling}. This is TCP's AIMD, the scheme the AWS SDK's "adaptive" retry
 * mode uses on the client side, so a client finds the rate a throttled account allows instead of
 * being told it by hand.
 *
 * {@snippet :
 * AdaptiveRateGate gate = AdaptiveRateGate.builder()
 *     .initialRate(10).floor(0.5).ceiling(50)
 *     .build();
 * gate.acquire();
 * try {
 *   call();
 *   gate.onSuccess();
 * } catch (ThrottlingException e) {
 *   gate.onThrottle();
 *   throw e;
 * }
 * }
 *
 * <ul>
 *   <li><b>Decrease</b>: {@code rate = max(floor, rate * decreaseFactor)}. Throttling answers to
 *       calls made at the old rate arrive together, so after a decrease further signals are
 *       ignored for {@code cooldown}: one episode, one decrease.
 *   <li><b>Increase</b>: each success adds {@code increasePerSecond / rate}, so a gate that runs
 *       at its rate gains about {@code increasePerSecond} permits per second each second, up to
 *       {@code ceiling}. Successes count whatever the traffic: the ceiling bounds how far an idle
 *       gate can climb.
 * </ul>
 *
 * A rate change applies to every permit taken after it, those of callers already waiting included;
 * the interval after a permit already taken stays the one of its time. All guarantees of
 * {@link RateGate} (exact on return times at the current rate, FIFO, interruptible, lock-free
 * while nobody waits) hold. With a
 * {@link MeterRegistry} it also publishes the gauge {@code fanout.rate.adaptive.rate} (tag
 * {@code name}).
 */
public final class AdaptiveRateGate implements RateGate {
  private static final long NEVER = Long.MIN_VALUE;

  private final TokenBucketGate core;
  private final double floor;
  private final double ceiling;
  private final double decreaseFactor;
  private final double increasePerSecond;
  private final long cooldownNanos;

  private AdaptiveRateGate(Builder b, double initial, double increasePerSecond) {
    this.floor = b.floor;
    this.ceiling = b.ceiling;
    this.decreaseFactor = b.decreaseFactor;
    this.increasePerSecond = increasePerSecond;
    this.cooldownNanos =
        b.cooldown.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0
            ? Long.MAX_VALUE
            : b.cooldown.toNanos();
    this.core =
        new TokenBucketGate(
            TokenBucketGate.Params.of(initial, RateGate.Limit.intervalNanos(initial), b.burst, NEVER),
            b.burst,
            initial,
            b.ticker,
            b.sleeper,
            b.name,
            b.registry);
    if (b.registry != null) {
      Gauge.builder("fanout.rate.adaptive.rate", this, AdaptiveRateGate::rate)
          .description("Current rate of an adaptive rate gate, permits per second")
          .tag("name", b.name)
          .register(b.registry);
    }
  }

  /** A builder; {@link Builder#floor} and {@link Builder#ceiling} must be set. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public void acquire() throws InterruptedException {
    core.acquireAt(Long.MAX_VALUE);
  }

  @Override
  public boolean tryAcquire(Duration timeout) throws InterruptedException {
    return core.tryAcquire(timeout);
  }

  @Override
  public boolean tryAcquire() {
    return core.tryAcquire();
  }

  /**
   * The server throttled a call: lower the rate by {@code decreaseFactor}, unless it was lowered
   * less than {@code cooldown} ago or is at the floor.
   */
  public void onThrottle() {
    if (core.isRetired() && core.forward() instanceof AdaptiveRateGate live) {
      live.onThrottle();
      return;
    }
    long now = core.ticker().read();
    TokenBucketGate.Params p;
    TokenBucketGate.Params next;
    do {
      p = core.params();
      if (p.lastDecrease() != NEVER && now - p.lastDecrease() < cooldownNanos) {
        return;
      }
      double rate = Math.max(floor, p.rate() * decreaseFactor);
      next = params(rate, now);
    } while (!core.compareAndSetParams(p, next));
  }

  /** A call went through: raise the rate a little, up to {@code ceiling}. */
  public void onSuccess() {
    if (core.isRetired() && core.forward() instanceof AdaptiveRateGate live) {
      live.onSuccess();
      return;
    }
    TokenBucketGate.Params p;
    TokenBucketGate.Params next;
    do {
      p = core.params();
      if (p.rate() >= ceiling) {
        return;
      }
      double rate = Math.min(ceiling, p.rate() + increasePerSecond / p.rate());
      next = params(rate, p.lastDecrease());
    } while (!core.compareAndSetParams(p, next));
  }

  private TokenBucketGate.Params params(double rate, long lastDecrease) {
    return TokenBucketGate.Params.of(
        rate, RateGate.Limit.intervalNanos(rate), core.burst(), lastDecrease);
  }

  /** The current rate in permits per second. */
  public double rate() {
    if (core.isRetired() && core.forward() instanceof AdaptiveRateGate live) {
      return live.rate();
    }
    return core.params().rate();
  }

  /** The lowest rate throttling can bring it to. */
  public double floor() {
    return floor;
  }

  /** The highest rate successes can bring it to. */
  public double ceiling() {
    return ceiling;
  }

  TokenBucketGate core() {
    return core;
  }

  @Override
  public String toString() {
    return "AdaptiveRateGate[rate=" + rate() + ", floor=" + floor + ", ceiling=" + ceiling + "]";
  }

  /**
   * Builds an {@link AdaptiveRateGate}; {@link #build()} validates, naming the setting and the bad
   * value. Not thread-safe.
   */
  public static final class Builder {
    private double floor = Double.NaN;
    private double ceiling = Double.NaN;
    private double initialRate = Double.NaN;
    private int burst = 1;
    private double decreaseFactor = 0.5;
    private double increasePerSecond = Double.NaN;
    private Duration cooldown = Duration.ofSeconds(1);
    private Ticker ticker = Ticker.systemTicker();
    private Sleeper sleeper = Sleeper.systemSleeper();
    private String name = "default";
    private @Nullable MeterRegistry registry;

    private Builder() {}

    /** The lowest rate, permits per second; positive; required. */
    public Builder floor(double permitsPerSecond) {
      this.floor = permitsPerSecond;
      return this;
    }

    /** The highest rate, permits per second; at least {@code floor}; required. */
    public Builder ceiling(double permitsPerSecond) {
      this.ceiling = permitsPerSecond;
      return this;
    }

    /** The starting rate, between floor and ceiling; the ceiling unless set. */
    public Builder initialRate(double permitsPerSecond) {
      this.initialRate = permitsPerSecond;
      return this;
    }

    /** Permits the bucket holds at once, at least 1; 1 unless set. */
    public Builder burst(int burst) {
      this.burst = burst;
      return this;
    }

    /** What a throttling signal multiplies the rate by, strictly between 0 and 1; 0.5 unless set. */
    public Builder decreaseFactor(double decreaseFactor) {
      this.decreaseFactor = decreaseFactor;
      return this;
    }

    /**
     * About how many permits per second the rate gains per second of steady successes; positive.
     * Unless set, {@code (ceiling - floor) / 60}: the whole range in about a minute.
     */
    public Builder increasePerSecond(double increasePerSecond) {
      this.increasePerSecond = increasePerSecond;
      return this;
    }

    /** How long further throttling signals are ignored after a decrease; 1 s unless set. */
    public Builder cooldown(Duration cooldown) {
      this.cooldown = Objects.requireNonNull(cooldown, "cooldown must not be null");
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

    /** The name for the {@code name} meter tag; {@code default} unless set. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name must not be null");
      this.name = Names.nonBlank(name);
      return this;
    }

    /** Publishes the gate's meters (see {@link RateGate.Builder#meterRegistry} and above). */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry must not be null");
      return this;
    }

    /**
     * Validates and builds the gate; it starts with a full bucket.
     *
     * @throws IllegalArgumentException if a setting is missing or out of range
     */
    public AdaptiveRateGate build() {
      requireRate("floor", floor);
      requireRate("ceiling", ceiling);
      if (ceiling < floor) {
        throw new IllegalArgumentException(
            "ceiling must be at least floor (" + floor + "), was " + ceiling);
      }
      RateGate.Limit.intervalNanos(floor); // rejects a floor too small for one interval
      double initial = Double.isNaN(initialRate) ? ceiling : initialRate;
      if (!(initial >= floor && initial <= ceiling)) {
        throw new IllegalArgumentException(
            "initialRate must be between floor ("
                + floor
                + ") and ceiling ("
                + ceiling
                + "), was "
                + initial);
      }
      new RateGate.Limit(RateGate.Limit.intervalNanos(floor), burst); // validates burst
      if (!(decreaseFactor > 0 && decreaseFactor < 1)) {
        throw new IllegalArgumentException(
            "decreaseFactor must be between 0 and 1 (both excluded), was " + decreaseFactor);
      }
      double increase =
          Double.isNaN(increasePerSecond) ? (ceiling - floor) / 60 : increasePerSecond;
      if (!Double.isNaN(increasePerSecond)
          && (!(increasePerSecond > 0) || Double.isInfinite(increasePerSecond))) {
        throw new IllegalArgumentException(
            "increasePerSecond must be positive and finite, was " + increasePerSecond);
      }
      if (cooldown.isNegative()) {
        throw new IllegalArgumentException("cooldown must not be negative, was " + cooldown);
      }
      return new AdaptiveRateGate(this, initial, increase);
    }

    private static void requireRate(String field, double value) {
      if (Double.isNaN(value)) {
        throw new IllegalArgumentException(field + " must be set");
      }
      if (!(value > 0) || Double.isInfinite(value)) {
        throw new IllegalArgumentException(
            field + " must be positive and finite, was " + value);
      }
    }
  }
}
