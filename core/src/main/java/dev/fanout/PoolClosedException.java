package dev.fanout;

import java.io.Serial;
import java.util.concurrent.RejectedExecutionException;

/**
 * Thrown when work is submitted to a {@link WorkerPool} that is closing or closed. Nothing of
 * the rejected submission was accepted. Carries no stack trace (it is thrown on a hot path).
 */
public final class PoolClosedException extends RejectedExecutionException {
  @Serial private static final long serialVersionUID = 1L;

  /** @param poolName the name of the closed pool */
  public PoolClosedException(String poolName) {
    super("worker pool '" + poolName + "' is closed and accepts no more work");
  }

  @Override
  public Throwable fillInStackTrace() {
    return this;
  }
}
