package dev.fanout.testkit;

import dev.fanout.time.Sleeper;
import dev.fanout.time.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A hand-driven {@link Ticker} and {@link Sleeper} for tests: time moves only when the test
 * {@linkplain #advance(Duration) advances} it or, in {@linkplain #autoAdvancing() auto-advancing}
 * mode, when something sleeps. Nothing ever sleeps for real, so a test of a rate gate, a retry
 * policy or a timeout takes microseconds and gives the same answer on a loaded machine.
 *
 * <ul>
 *   <li>{@link #autoAdvancing()}: {@code sleep(n)} moves the clock forward by {@code n} and
 *       returns at once. For single-threaded tests that check which waits a class asks for.
 *   <li>{@link #manual()}: {@code sleep(n)} blocks until {@link #advance} moves the clock to or past
 *       the end of the sleep. For multi-threaded tests that release waiters step by step.
 * </ul>
 *
 * {@snippet :
 * FakeTime time = FakeTime.autoAdvancing();
 * RateGate gate = RateGate.builder()
 *     .spacing(Duration.ofMillis(100))
 *     .ticker(time)
 *     .sleeper(time)
 *     .build();
 * gate.acquire();
 * gate.acquire(); // "sleeps" 100 ms of fake time, returns at once
 * assertThat(time.waits()).containsExactly(Duration.ofMillis(100));
 * }
 *
 * <p>In manual mode, wait for a thread to reach its sleep with Awaitility, then release it:
 *
 * {@snippet :
 * FakeTime time = FakeTime.manual();
 * // ... start a thread that sleeps 1 s on this time ...
 * await().until(() -> time.sleepers() == 1);
 * time.advance(Duration.ofSeconds(1)); // the sleeper wakes
 * }
 *
 * <p>Both modes record every requested sleep, never go backwards (the clock stops at {@link
 * Long#MAX_VALUE} rather than overflow) and answer interruption like {@link Thread#sleep(long)}:
 * a sleep entered by, or interrupted in, an interrupted thread throws {@link InterruptedException}
 * and clears the interrupt status. Thread-safe: any number of threads may read, sleep and advance
 * at once; an {@link #advance} happens-before the return of every sleep it ends.
 */
public final class FakeTime implements Ticker, Sleeper {
  /** An arbitrary large origin, so that code which mistakes a reading for a duration shows it. */
  private static final long ORIGIN = 1_000_000_000_000L;

  private final boolean autoAdvance;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition moved = lock.newCondition();
  private final List<Long> sleeps = new ArrayList<>(); // guarded by lock
  private long now; // guarded by lock
  private int sleeping; // guarded by lock

  private FakeTime(boolean autoAdvance, long start) {
    this.autoAdvance = autoAdvance;
    this.now = start;
  }

  /** Time in which each sleep moves the clock forward by its length and returns at once. */
  public static FakeTime autoAdvancing() {
    return new FakeTime(true, ORIGIN);
  }

  /** Time in which sleepers block until the test {@linkplain #advance advances} the clock. */
  public static FakeTime manual() {
    return new FakeTime(false, ORIGIN);
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

  /**
   * Records the sleep, then either moves the clock ({@link #autoAdvancing()}) or waits until the
   * clock reaches {@code read() + nanos} ({@link #manual()}). Returns at once if {@code nanos <= 0}.
   *
   * @throws InterruptedException if the thread is interrupted before or while sleeping
   */
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
      long until = saturatedAdd(now, nanos);
      if (autoAdvance) {
        now = until;
        moved.signalAll();
        return;
      }
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

  /**
   * Moves the clock forward by {@code nanos} and wakes the sleepers whose time has come.
   *
   * @throws IllegalArgumentException if {@code nanos} is negative
   */
  public void advance(long nanos) {
    if (nanos < 0) {
      throw new IllegalArgumentException("nanos must not be negative (time does not go backwards), was " + nanos);
    }
    lock.lock();
    try {
      now = saturatedAdd(now, nanos);
      moved.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Moves the clock forward by {@code duration} and wakes the sleepers whose time has come.
   *
   * @throws IllegalArgumentException if {@code duration} is negative
   */
  public void advance(Duration duration) {
    Objects.requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      throw new IllegalArgumentException(
          "duration must not be negative (time does not go backwards), was " + duration);
    }
    advance(saturatedNanos(duration));
  }

  /** How many threads are blocked in {@link #sleep} now; always 0 when auto-advancing. */
  public int sleepers() {
    lock.lock();
    try {
      return sleeping;
    } finally {
      lock.unlock();
    }
  }

  /** Every requested sleep so far, in nanoseconds and in order, zero and negative ones too. */
  public List<Long> sleeps() {
    lock.lock();
    try {
      return List.copyOf(sleeps);
    } finally {
      lock.unlock();
    }
  }

  /** The positive requested sleeps so far, in order, as durations. */
  public List<Duration> waits() {
    return sleeps().stream().filter(n -> n > 0).map(Duration::ofNanos).toList();
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return sum < a ? Long.MAX_VALUE : sum; // b >= 0 here, so a wrap shows as a smaller sum
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException tooLong) {
      return Long.MAX_VALUE;
    }
  }
}
