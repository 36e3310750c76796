package dev.fanout.time;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A hand-driven {@link Ticker} and {@link Sleeper} for tests, which never sleep for real.
 *
 * <ul>
 *   <li>{@link #autoAdvancing()}: {@code sleep(n)} moves the clock forward by {@code n} and
 *       returns; for single-threaded tests that want to see the waits a class asks for.
 *   <li>{@link #manual()}: {@code sleep(n)} blocks until {@link #advance} moves the clock past its
 *       end; for multi-threaded tests that release waiters step by step.
 * </ul>
 *
 * Both record every requested sleep and answer interruption like {@link Thread#sleep}.
 */
public final class FakeTime implements Ticker, Sleeper {
  private final boolean autoAdvance;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition moved = lock.newCondition();
  private final List<Long> sleeps = new ArrayList<>();
  private long now;
  private int sleeping;

  private FakeTime(boolean autoAdvance, long start) {
    this.autoAdvance = autoAdvance;
    this.now = start;
  }

  /** Sleeping moves the clock. Starts at an arbitrary large time to catch origin mistakes. */
  public static FakeTime autoAdvancing() {
    return new FakeTime(true, 1_000_000_000_000L);
  }

  /** Sleepers block until the test advances the clock. */
  public static FakeTime manual() {
    return new FakeTime(false, 1_000_000_000_000L);
  }

  @Override
  public long read() {
    lock.lock();
    try {
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
    lock.lock();
    try {
      sleeps.add(nanos);
      if (nanos <= 0) {
        return;
      }
      if (autoAdvance) {
        now += nanos;
        moved.signalAll();
        return;
      }
      long until = now + nanos;
      sleeping++;
      try {
        while (now < until) {
          moved.await();
        }
      } finally {
        sleeping--;
      }
    } finally {
      lock.unlock();
    }
  }

  /** Moves the clock forward and wakes sleepers whose time has come. */
  public void advance(long nanos) {
    if (nanos < 0) {
      throw new IllegalArgumentException("time does not go backwards: " + nanos);
    }
    lock.lock();
    try {
      now += nanos;
      moved.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Moves the clock forward and wakes sleepers whose time has come. */
  public void advance(Duration d) {
    advance(d.toNanos());
  }

  /** How many threads are blocked in {@link #sleep} ({@link #manual()} only). */
  public int sleepers() {
    lock.lock();
    try {
      return sleeping;
    } finally {
      lock.unlock();
    }
  }

  /** Every requested sleep so far, in nanoseconds, in order. */
  public List<Long> sleeps() {
    lock.lock();
    try {
      return List.copyOf(sleeps);
    } finally {
      lock.unlock();
    }
  }

  /** The positive requested sleeps as durations. */
  public List<Duration> waits() {
    return sleeps().stream().filter(n -> n > 0).map(Duration::ofNanos).toList();
  }
}
