package dev.fanout.internal;

import java.io.Serial;
import java.util.concurrent.CancellationException;

/**
 * The error of a cancelled task's failure. A {@link CancellationException} without a stack trace:
 * a fail-fast fan-out or a deadline may cancel a million queued keys at once, and the message
 * says why.
 */
public final class Cancelled extends CancellationException {
  @Serial private static final long serialVersionUID = 1L;

  public Cancelled(String reason) {
    super(reason);
  }

  @Override
  public Throwable fillInStackTrace() {
    return this;
  }
}
