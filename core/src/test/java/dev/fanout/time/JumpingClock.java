package dev.fanout.time;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.SplittableRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A store's clock for tests that jumps: it runs with real time (so real heartbeats and reapers keep
 * pace with it) and, at random readings, leaps forward — a paused JVM, a stepped system clock, a
 * database host that froze. It never goes backwards. Thread-safe; the jumps are drawn from a seeded
 * generator, so their sizes repeat for a seed, though not the moments threads read.
 */
public final class JumpingClock implements InstantSource {
  private static final Instant ORIGIN = Instant.parse("2025-11-20T17:07:36Z");

  private final ReentrantLock lock = new ReentrantLock();
  private final SplittableRandom random;
  private final double jumpChance;
  private final long maxJumpNanos;
  private final long startNanos = System.nanoTime();
  private long jumped; // guarded by lock
  private long last; // guarded by lock
  private int jumps; // guarded by lock

  private JumpingClock(long seed, double jumpChance, Duration maxJump) {
    if (!(jumpChance >= 0 && jumpChance <= 1)) {
      throw new IllegalArgumentException("jumpChance must be between 0 and 1, was " + jumpChance);
    }
    if (maxJump.isNegative()) {
      throw new IllegalArgumentException("maxJump must not be negative, was " + maxJump);
    }
    this.random = new SplittableRandom(seed);
    this.jumpChance = jumpChance;
    this.maxJumpNanos = maxJump.toNanos();
  }

  /** A clock on which each reading, with {@code jumpChance}, first leaps up to {@code maxJump}. */
  public static JumpingClock create(long seed, double jumpChance, Duration maxJump) {
    return new JumpingClock(seed, jumpChance, maxJump);
  }

  @Override
  public Instant instant() {
    lock.lock();
    try {
      if (maxJumpNanos > 0 && random.nextDouble() < jumpChance) {
        jumped += 1 + random.nextLong(maxJumpNanos);
        jumps++;
      }
      return ORIGIN.plusNanos(now());
    } finally {
      lock.unlock();
    }
  }

  /** The clock as it stands, without a chance of a jump: for observers. */
  public Instant peek() {
    lock.lock();
    try {
      return ORIGIN.plusNanos(now());
    } finally {
      lock.unlock();
    }
  }

  /** Moves the clock forward by hand. */
  public void advance(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("time does not go backwards: " + d);
    }
    lock.lock();
    try {
      jumped += d.toNanos();
    } finally {
      lock.unlock();
    }
  }

  /** How many times the clock jumped by itself. */
  public int jumps() {
    lock.lock();
    try {
      return jumps;
    } finally {
      lock.unlock();
    }
  }

  // Caller holds lock.
  private long now() {
    last = Math.max(last, System.nanoTime() - startNanos + jumped);
    return last;
  }
}
