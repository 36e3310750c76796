package dev.fanout.retry;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What {@link RetryPolicy#execute(java.util.concurrent.Callable)} made of a call: the value, or
 * the error the call ended with, and in both cases how many attempts it took. (It carries no
 * elapsed time: a caller that wants one measures it; the happy path reads no clock.) Sealed, so
 * an exhaustive {@code switch} needs no default:
 *
 * {@snippet :
 * switch (policy.execute(() -> client.listClusters(account))) {
 *   case Outcome.Success<List<String>>(var clusters, var attempts, var throttles, var cutHints) ->
 *       log.info("{} clusters after {} attempt(s)", clusters.size(), attempts);
 *   case Outcome.Failure<List<String>> f ->
 *       log.warn("gave up ({}) after {} attempt(s): {}", f.reason(), f.attempts(), f.error().toString());
 * }
 * }
 *
 * @param <T> the value type
 */
public sealed interface Outcome<T extends @Nullable Object> {

  /** How many times the task was called, throttled attempts included; at least 1. */
  int attempts();

  /** How many of the {@link #attempts()} were throttled. */
  int throttles();

  /**
   * How many server hints ({@link RetryAfter}) asked for a longer wait than
   * {@link RetryPolicy#maxRetryAfter()} and were cut to it; 0 when every hint was honoured.
   */
  int cutHints();

  /**
   * The task returned {@code value}. This includes a value that asked for a retry (see
   * {@link RetryPolicy.Builder#retryOnResult}) when no retry was left: the last value stands.
   *
   * @param value what the task returned
   * @param attempts calls made, at least 1
   * @param throttles how many of them were throttled
   * @param cutHints how many server hints were cut to {@link RetryPolicy#maxRetryAfter()}
   */
  record Success<T extends @Nullable Object>(T value, int attempts, int throttles, int cutHints)
      implements Outcome<T> {
    /** A success whose waits honoured every server hint. */
    public Success(T value, int attempts, int throttles) {
      this(value, attempts, throttles, 0);
    }
  }

  /**
   * The call ended with {@code error}: the task's last exception itself (not wrapped), a
   * {@link RetryBudgetExhaustedException}, or an {@link InterruptedException}; {@code reason}
   * says which.
   *
   * @param error what the call ended with
   * @param reason why no further attempt was made
   * @param attempts calls made, at least 1
   * @param throttles how many of them were throttled
   * @param cutHints how many server hints were cut to {@link RetryPolicy#maxRetryAfter()}
   */
  record Failure<T extends @Nullable Object>(
      Throwable error, Reason reason, int attempts, int throttles, int cutHints)
      implements Outcome<T> {
    /** Validates. */
    public Failure {
      Objects.requireNonNull(error, "error must not be null");
      Objects.requireNonNull(reason, "reason must not be null");
    }

    /** A failure whose waits honoured every server hint. */
    public Failure(Throwable error, Reason reason, int attempts, int throttles) {
      this(error, reason, attempts, throttles, 0);
    }
  }

  /** Why a {@link Failure} stopped. */
  enum Reason {
    /** The error is not retryable (see {@link RetryPolicy.Builder#retryOn}). */
    NOT_RETRYABLE,
    /** All {@link RetryPolicy#maxAttempts()} were used; the error is the last attempt's. */
    ATTEMPTS_EXHAUSTED,
    /** The throttling cap {@link RetryPolicy#maxThrottles()} was reached. */
    THROTTLES_EXHAUSTED,
    /**
     * Waiting for another attempt would pass {@link RetryPolicy#maxElapsedTime()}, or the wait
     * ended past it.
     */
    ELAPSED_TIME_EXCEEDED,
    /** The shared {@link RetryBudget} is spent; the error is a {@link RetryBudgetExhaustedException}. */
    BUDGET_EXHAUSTED,
    /**
     * The thread was interrupted: during a backoff (the error is an {@link InterruptedException}
     * with the last task error suppressed) or inside the task (the task's own error).
     */
    INTERRUPTED
  }
}
