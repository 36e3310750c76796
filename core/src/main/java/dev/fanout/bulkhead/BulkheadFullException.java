package dev.fanout.bulkhead;

import dev.fanout.internal.Durations;
import java.io.Serial;
import java.time.Duration;

/**
 * Thrown when a {@link Bulkhead} stayed full for its whole {@link Bulkhead#maxWait()}: the call
 * was not let in and the task, if any, was not called.
 *
 * <p>An overloaded bulkhead refuses many calls, so the exception carries no stack trace.
 */
public final class BulkheadFullException extends RuntimeException {
  @Serial private static final long serialVersionUID = 1L;

  private final String name;
  private final int maxConcurrent;

  /**
   * @param name the bulkhead's name
   * @param maxConcurrent its bound
   * @param maxWait how long the caller waited
   */
  public BulkheadFullException(String name, int maxConcurrent, Duration maxWait) {
    super(
        "bulkhead '"
            + name
            + "' is full: all "
            + maxConcurrent
            + " permits were taken"
            + (maxWait.isZero() ? "" : " for " + Durations.format(maxWait)),
        null,
        true,
        false);
    this.name = name;
    this.maxConcurrent = maxConcurrent;
  }

  /** The name of the bulkhead that refused. */
  public String name() {
    return name;
  }

  /** The bulkhead's bound on concurrent calls. */
  public int maxConcurrent() {
    return maxConcurrent;
  }
}
