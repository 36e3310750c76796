package dev.fanout.time;

/**
 * Waits for a while: the other half of {@link Ticker}. Rate gates and retry policies wait through
 * a sleeper, so a test can hand them one that only moves a fake clock.
 *
 * <p>A sleeper may return early (a caller that needs a point in time re-reads its ticker and
 * sleeps again) but must answer interruption by throwing {@link InterruptedException} and
 * clearing the interrupt status, like {@link Thread#sleep(long)}. Implementations must be
 * thread-safe.
 */
@FunctionalInterface
public interface Sleeper {

  /**
   * Waits about {@code nanos} nanoseconds; returns at once if {@code nanos <= 0} and the thread
   * is not interrupted.
   *
   * @throws InterruptedException if the thread is interrupted before or while waiting
   */
  void sleep(long nanos) throws InterruptedException;

  /**
   * The sleeper of {@link Thread#sleep(long, int)}: nanosecond precision on JDK 21+, and a
   * virtual thread unmounts from its carrier while it sleeps.
   */
  static Sleeper systemSleeper() {
    return SystemTime.INSTANCE;
  }
}
