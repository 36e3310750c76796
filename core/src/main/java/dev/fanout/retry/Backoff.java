package dev.fanout.retry;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * How long to wait before a retry: a fixed or exponential delay, capped, with optional
 * {@link Jitter}. A pure value: {@link #delayNanos(int, long, RandomGenerator)} depends only on its
 * arguments, so it can be tested with a seeded random source and property tests.
 *
 * {@snippet :
 * Backoff backoff = Backoff.exponential(Duration.ofMillis(100), 2.0, Duration.ofSeconds(10))
 *     .withJitter(Jitter.FULL);
 * long nanos = backoff.delayNanos(3, 0, ThreadLocalRandom.current()); // uniform in [0, 400 ms]
 * }
 *
 * @param initial the delay before the first retry (before jitter); zero or more
 * @param multiplier how much each retry's delay grows over the last; {@code 1.0} for a fixed
 *     delay; at least 1 and finite
 * @param max the cap on any delay; at least {@code initial}, at most {@link #MAX_DELAY}
 * @param jitter how the delays are spread
 */
public record Backoff(Duration initial, double multiplier, Duration max, Jitter jitter) {

  /** The largest accepted delay, about 292 years (the most nanoseconds a {@code long} holds). */
  public static final Duration MAX_DELAY = Duration.ofNanos(Long.MAX_VALUE);

  private static final Backoff NONE = new Backoff(Duration.ZERO, 1.0, Duration.ZERO, Jitter.NONE);

  /** Validates every component; see the class documentation for the accepted values. */
  public Backoff {
    Objects.requireNonNull(initial, "initial must not be null");
    Objects.requireNonNull(max, "max must not be null");
    Objects.requireNonNull(jitter, "jitter must not be null");
    if (initial.isNegative()) {
      throw new IllegalArgumentException("initial must not be negative, was " + initial);
    }
    if (max.compareTo(MAX_DELAY) > 0) {
      throw new IllegalArgumentException("max must be at most " + MAX_DELAY + ", was " + max);
    }
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException(
          "max must be at least initial (" + initial + "), was " + max);
    }
    if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
      throw new IllegalArgumentException(
          "multiplier must be at least 1.0 and finite, was " + multiplier);
    }
  }

  /** No wait at all between attempts. */
  public static Backoff none() {
    return NONE;
  }

  /** The same {@code delay} before every retry, without jitter. */
  public static Backoff fixed(Duration delay) {
    Objects.requireNonNull(delay, "delay must not be null");
    return new Backoff(delay, 1.0, delay, Jitter.NONE);
  }

  /**
   * {@code initial}, then {@code initial * multiplier}, {@code initial * multiplier^2} ... up to
   * {@code max}, without jitter (add it with {@link #withJitter(Jitter)}).
   */
  public static Backoff exponential(Duration initial, double multiplier, Duration max) {
    return new Backoff(initial, multiplier, max, Jitter.NONE);
  }

  /** This backoff with another jitter. */
  public Backoff withJitter(Jitter jitter) {
    return new Backoff(initial, multiplier, max, jitter);
  }

  /**
   * The delay of retry {@code retry} before jitter: {@code min(max, initial * multiplier^(retry-1))}.
   * Never decreases as {@code retry} grows.
   *
   * @param retry 1 for the first retry
   * @throws IllegalArgumentException if {@code retry < 1}
   */
  public long baseNanos(int retry) {
    checkRetry(retry);
    long initialNanos = initial.toNanos();
    long maxNanos = max.toNanos();
    if (multiplier == 1.0 || retry == 1 || initialNanos == 0) {
      return initialNanos;
    }
    double value = initialNanos * Math.pow(multiplier, retry - 1);
    // A double above maxNanos (or infinite) saturates; the cast is safe below maxNanos.
    return value >= maxNanos ? maxNanos : (long) value;
  }

  /**
   * The delay before retry {@code retry}, in nanoseconds, with jitter drawn from {@code random}.
   *
   * @param retry 1 for the first retry
   * @param previousNanos the delay before the previous retry; only {@link Jitter#DECORRELATED}
   *     reads it, and treats zero or less (no previous retry) as {@code initial}
   * @param random the source of jitter; not read for {@link Jitter#NONE}
   * @return a delay within the bounds of the jitter (see {@link Jitter}), never negative
   * @throws IllegalArgumentException if {@code retry < 1}
   */
  public long delayNanos(int retry, long previousNanos, RandomGenerator random) {
    return switch (jitter) {
      case NONE -> baseNanos(retry);
      case FULL -> uniform(0, baseNanos(retry), random);
      case EQUAL -> {
        long base = baseNanos(retry);
        long half = base / 2;
        yield base - half + uniform(0, half, random); // [ceil(base/2), base]
      }
      case DECORRELATED -> {
        checkRetry(retry);
        long initialNanos = initial.toNanos();
        long maxNanos = max.toNanos();
        long previous = previousNanos <= 0 ? initialNanos : previousNanos;
        long upper = previous > Long.MAX_VALUE / 3 ? Long.MAX_VALUE : previous * 3;
        yield Math.min(maxNanos, uniform(initialNanos, Math.max(initialNanos, upper), random));
      }
    };
  }

  /** As {@link #delayNanos(int, long, RandomGenerator)}, with durations. */
  public Duration delay(int retry, Duration previous, RandomGenerator random) {
    Objects.requireNonNull(previous, "previous must not be null");
    long previousNanos = previous.compareTo(MAX_DELAY) > 0 ? Long.MAX_VALUE : previous.toNanos();
    return Duration.ofNanos(delayNanos(retry, previousNanos, random));
  }

  private static void checkRetry(int retry) {
    if (retry < 1) {
      throw new IllegalArgumentException("retry must be at least 1, was " + retry);
    }
  }

  /** Uniform in {@code [low, high]}, both non-negative. */
  private static long uniform(long low, long high, RandomGenerator random) {
    if (high <= low) {
      return low;
    }
    long span = high - low;
    return low + (span == Long.MAX_VALUE ? random.nextLong(span) : random.nextLong(span + 1));
  }
}
