package dev.fanout.retry;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * One retry about to happen, as told to a {@link RetryListener} before the wait.
 *
 * @param attempt how many calls were made so far (the one that just failed included)
 * @param retry which retry this is of its kind: {@code 1} for the first normal retry, or for the
 *     first throttled retry when {@code throttled}
 * @param maxRetries how many retries of this kind the policy allows:
 *     {@code maxAttempts - 1}, or {@code maxThrottles} when {@code throttled}
 * @param throttled whether the attempt was throttled (so it uses the throttling backoff and cap)
 * @param delay how long the policy waits before the next attempt
 * @param error the attempt's error; {@code null} if the attempt returned a value that asked for a
 *     retry
 * @param result the value that asked for a retry; {@code null} if the attempt threw
 * @param cutHint the server's hint when it asked for longer than
 *     {@link RetryPolicy#maxRetryAfter()} and {@code delay} was cut to that cap; {@code null}
 *     otherwise
 */
public record RetryEvent(
    int attempt,
    int retry,
    int maxRetries,
    boolean throttled,
    Duration delay,
    @Nullable Throwable error,
    @Nullable Object result,
    @Nullable Duration cutHint) {

  /** An event whose delay honours the server's hint, if any. */
  public RetryEvent(
      int attempt,
      int retry,
      int maxRetries,
      boolean throttled,
      Duration delay,
      @Nullable Throwable error,
      @Nullable Object result) {
    this(attempt, retry, maxRetries, throttled, delay, error, result, null);
  }
}
