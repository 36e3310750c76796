package dev.fanout.retry;

import java.time.Duration;
import java.util.Optional;

/**
 * A server's hint of how long to wait before trying again: HTTP {@code Retry-After}, or a
 * throttling error's suggested delay. An exception may implement this interface; by default a
 * {@link RetryPolicy} waits at least the hinted time before retrying it (see
 * {@link RetryPolicy.Builder#retryAfter(java.util.function.Function)} to read hints from
 * exceptions you do not own).
 *
 * {@snippet :
 * final class TooManyRequests extends IOException implements RetryAfter {
 *   private final Duration wait;
 *   TooManyRequests(Duration wait) { this.wait = wait; }
 *   @Override public Optional<Duration> retryAfter() { return Optional.of(wait); }
 * }
 * }
 */
public interface RetryAfter {

  /** How long the server asked to wait; empty if it gave no hint. Never negative. */
  Optional<Duration> retryAfter();
}
