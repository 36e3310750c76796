package dev.fanout.retry;

import java.io.Serial;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A ready-made signal that the other side throttled the call (HTTP 429, AWS
 * {@code ThrottlingException}). A {@link RetryPolicy} treats it as throttling by default: it is
 * retried with the throttling backoff, bounded by its own cap, and does not use up the normal
 * attempts. Optionally carries the server's {@link RetryAfter} hint.
 *
 * {@snippet :
 * if (response.statusCode() == 429) {
 *   throw new ThrottledException("429 from " + uri, retryAfterHeader(response), null);
 * }
 * }
 *
 * <p>Throttling may come in storms, so this exception does not capture a stack trace; wrap the
 * original error as its cause when you have one.
 */
public class ThrottledException extends Exception implements RetryAfter {
  @Serial private static final long serialVersionUID = 1L;

  private final transient @Nullable Duration retryAfter;

  /** A throttling signal without a hint. */
  public ThrottledException(String message) {
    this(message, null, null);
  }

  /**
   * @param message what was throttled
   * @param retryAfter the server's hint, or {@code null} if it gave none; not negative
   * @param cause the original error, or {@code null}
   * @throws IllegalArgumentException if {@code retryAfter} is negative
   */
  public ThrottledException(
      String message, @Nullable Duration retryAfter, @Nullable Throwable cause) {
    super(Objects.requireNonNull(message, "message must not be null"), cause, true, false);
    if (retryAfter != null && retryAfter.isNegative()) {
      throw new IllegalArgumentException("retryAfter must not be negative, was " + retryAfter);
    }
    this.retryAfter = retryAfter;
  }

  @Override
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }
}
