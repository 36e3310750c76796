package dev.fanout;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import org.jspecify.annotations.Nullable;

/**
 * The outcome of one key's task: a {@link Success} carrying the value or a {@link Failure}
 * carrying the error. A cancelled task (by {@link WorkerPool#cancel(Object)}, a fail-fast
 * fan-out, a deadline or the pool's shutdown) is a {@code Failure} whose error is a
 * {@link CancellationException}; a task that ran past its timeout is a {@code Failure} whose
 * error is a {@link TaskTimeoutException}.
 *
 * <p>The interface is sealed, so an exhaustive {@code switch} needs no default:
 *
 * {@snippet :
 * switch (result) {
 *   case Result.Success<String, Integer>(var key, var value, var attempts, var elapsed) ->
 *       log.info("{} -> {} after {} attempt(s)", key, value, attempts);
 *   case Result.Failure<String, Integer>(var key, var error, var attempts, var elapsed) ->
 *       log.warn("{} failed: {}", key, error.toString());
 * }
 * }
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public sealed interface Result<K, V> {

  /** The key whose task produced this result. */
  K key();

  /** How many times the task was started for this result (0 if it never started). */
  int attempts();

  /**
   * Time from the task's first start to its end: from when a worker took the key (or from the
   * submission, if none did), so the rate gate's waits and the pauses between retries count.
   */
  Duration elapsed();

  /** Whether this is a {@link Success}. */
  default boolean isSuccess() {
    return this instanceof Success;
  }

  /** Whether this is a {@link Failure} whose error is a {@link CancellationException}. */
  default boolean isCancelled() {
    return this instanceof Failure<K, V> f && f.error() instanceof CancellationException;
  }

  /**
   * A task that returned normally.
   *
   * @param key the key
   * @param value what the task returned; {@code null} only for tasks that return nothing
   * @param attempts how many times the task was started (at least 1)
   * @param elapsed time from the first start to the end
   */
  record Success<K, V>(K key, @Nullable V value, int attempts, Duration elapsed)
      implements Result<K, V> {
    public Success {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(elapsed, "elapsed");
    }
  }

  /**
   * A task that threw, timed out or was cancelled.
   *
   * @param key the key
   * @param error what went wrong: the task's own exception, a {@link TaskTimeoutException} or
   *     a {@link CancellationException}
   * @param attempts how many times the task was started (0 if it was cancelled while queued)
   * @param elapsed time from the first start (or the submission) to the end
   */
  record Failure<K, V>(K key, Throwable error, int attempts, Duration elapsed)
      implements Result<K, V> {
    public Failure {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(error, "error");
      Objects.requireNonNull(elapsed, "elapsed");
    }
  }
}
