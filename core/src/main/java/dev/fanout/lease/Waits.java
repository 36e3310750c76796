package dev.fanout.lease;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Waits of the workers' threads that end early when they are told to stop. */
final class Waits {
  private Waits() {}

  /**
   * Waits up to {@code d} for {@code stop} to open: a wait on an event, not a pure delay, so it
   * ends at once when stopping. True if it opened (or the thread was interrupted, which is kept).
   */
  static boolean await(CountDownLatch stop, Duration d) {
    try {
      return stop.await(d.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }
}
