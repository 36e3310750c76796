package dev.fanout.time;

import java.util.SplittableRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link Ticker} and {@link Sleeper} for tests that treats its callers the way a loaded machine
 * does: a sleep may overshoot by up to {@code maxOversleep} (a descheduled thread), may end early
 * (which {@link Sleeper} allows), and the clock may jump forward between two readings (a paused
 * JVM). It never sleeps for real: sleeping moves the shared clock, so several threads can use one
 * instance and see each other's time pass. Seeded, hence repeatable for one thread.
 *
 * <p>A class built on this time keeps a guarantee only if the guarantee holds on the times its
 * callers observe, whatever the sleeper and the clock do.
 */
public final class AdversarialTime implements Ticker, Sleeper {
  private final ReentrantLock lock = new ReentrantLock();
  private final SplittableRandom random;
  private final long maxOversleep;
  private final long maxJump;
  private final double oversleepChance;
  private final double earlyChance;
  private final double jumpChance;
  private final boolean fixedOversleep;
  private long now = 1_000_000_000_000L;
  private long oversleeps;
  private long earlyWakes;
  private long jumps;

  private AdversarialTime(
      long seed,
      long maxOversleep,
      long maxJump,
      double oversleepChance,
      double earlyChance,
      double jumpChance,
      boolean fixedOversleep) {
    this.fixedOversleep = fixedOversleep;
    this.random = new SplittableRandom(seed);
    this.maxOversleep = maxOversleep;
    this.maxJump = maxJump;
    this.oversleepChance = oversleepChance;
    this.earlyChance = earlyChance;
    this.jumpChance = jumpChance;
  }

  /**
   * Time that misbehaves at random: a quarter of sleeps overshoot (up to {@code maxOversleep}), a
   * tenth end early, and one reading in twenty finds the clock jumped forward (up to
   * {@code maxJump}).
   */
  public static AdversarialTime random(long seed, long maxOversleep, long maxJump) {
    return new AdversarialTime(seed, maxOversleep, maxJump, 0.25, 0.10, 0.05, false);
  }

  /** Time whose sleeps all overshoot by exactly {@code oversleep}, and that never jumps. */
  public static AdversarialTime oversleeping(long oversleep) {
    return new AdversarialTime(0, oversleep, 0, 1.0, 0.0, 0.0, true);
  }

  @Override
  public long read() {
    lock.lock();
    try {
      if (jumpChance > 0 && maxJump > 0 && random.nextDouble() < jumpChance) {
        now += 1 + random.nextLong(maxJump);
        jumps++;
      }
      return now;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void sleep(long nanos) throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    if (nanos <= 0) {
      return;
    }
    lock.lock();
    try {
      double dice = random.nextDouble();
      if (dice < earlyChance && nanos > 1) {
        now += 1 + random.nextLong(nanos - 1); // woke early: the caller must look again
        earlyWakes++;
      } else if (dice < earlyChance + oversleepChance && maxOversleep > 0) {
        now += nanos + (fixedOversleep ? maxOversleep : 1 + random.nextLong(maxOversleep));
        oversleeps++;
      } else {
        now += nanos;
      }
    } finally {
      lock.unlock();
    }
    Thread.yield(); // let others run while "asleep", as a real sleep would
  }

  /**
   * The clock as it stands, without a chance of a jump: how an observer (the service a gated call
   * reaches) sees the instant a caller returns.
   */
  public long peek() {
    lock.lock();
    try {
      return now;
    } finally {
      lock.unlock();
    }
  }

  /** Moves the clock forward by hand. */
  public void advance(long nanos) {
    if (nanos < 0) {
      throw new IllegalArgumentException("time does not go backwards: " + nanos);
    }
    lock.lock();
    try {
      now += nanos;
    } finally {
      lock.unlock();
    }
  }

  /** How often a sleep overshot, ended early, and the clock jumped: proof the test was hostile. */
  public String misdeeds() {
    lock.lock();
    try {
      return oversleeps + " oversleeps, " + earlyWakes + " early wakes, " + jumps + " jumps";
    } finally {
      lock.unlock();
    }
  }

  /** How many sleeps overshot. */
  public long oversleeps() {
    lock.lock();
    try {
      return oversleeps;
    } finally {
      lock.unlock();
    }
  }
}
