package dev.fanout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * The handle of a keyed submission ({@link WorkerPool#submit}). Submitters whose submissions
 * were coalesced or joined hold handles to the same run and see the same {@link Result}.
 *
 * <p>The result never completes exceptionally: failures, timeouts and cancellations are
 * {@link Result.Failure}s. Memory consistency: actions of the task happen-before a thread
 * returns its result from {@link #await()} or sees it in a {@link #result()} callback.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class TaskHandle<K, V> {
  private final K key;
  private final CompletableFuture<Result<K, V>> future;
  private final KeyedRuns keyed;

  TaskHandle(K key, CompletableFuture<Result<K, V>> future, KeyedRuns keyed) {
    this.key = key;
    this.future = future;
    this.keyed = keyed;
  }

  /** The key submitted. */
  public K key() {
    return key;
  }

  /** The result as a read-only stage, for callbacks and composition. */
  public CompletionStage<Result<K, V>> result() {
    return future.minimalCompletionStage();
  }

  /** Whether the result is there. */
  public boolean isDone() {
    return future.isDone();
  }

  /**
   * Waits for the result.
   *
   * @throws InterruptedException if interrupted while waiting (the task goes on)
   */
  public Result<K, V> await() throws InterruptedException {
    try {
      return future.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException("a task handle's result never fails", e);
    }
  }

  /**
   * Waits up to {@code timeout} for the result.
   *
   * @return the result, or {@code null} if it is not there in time (the task goes on)
   * @throws InterruptedException if interrupted while waiting (the task goes on)
   */
  public @Nullable Result<K, V> await(Duration timeout) throws InterruptedException {
    try {
      return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      return null;
    } catch (ExecutionException e) {
      throw new IllegalStateException("a task handle's result never fails", e);
    }
  }

  /**
   * Cancels the key's keyed submissions: its queued or running run is reported cancelled (and
   * interrupted if running) and a pending re-run is dropped. Unlike
   * {@link WorkerPool#cancel(Object)}, fan-outs that happen to have the same key are left alone.
   *
   * @return whether anything was cancelled
   */
  public boolean cancel() {
    return keyed.cancel(key);
  }

  @Override
  public String toString() {
    return "TaskHandle[" + key + (future.isDone() ? ", done]" : "]");
  }
}
