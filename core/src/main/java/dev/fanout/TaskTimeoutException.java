package dev.fanout;

import java.io.Serial;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * The error of a {@link Result.Failure} whose task ran past the pool's per-task timeout. The
 * task's thread was interrupted when the timeout passed.
 *
 * <p>Thrown on a hot path, so it carries no stack trace: the key and the timeout say all there is.
 */
public final class TaskTimeoutException extends TimeoutException {
  @Serial private static final long serialVersionUID = 1L;

  private final transient Duration timeout;

  /**
   * @param key the key whose task timed out (only its {@code toString} is kept)
   * @param timeout the timeout that passed
   */
  public TaskTimeoutException(Object key, Duration timeout) {
    super("task for key " + key + " timed out after " + timeout);
    this.timeout = timeout;
  }

  /** The timeout that passed. */
  public Duration timeout() {
    return timeout;
  }

  @Override
  public Throwable fillInStackTrace() {
    return this;
  }
}
