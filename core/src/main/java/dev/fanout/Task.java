package dev.fanout;

/**
 * The work done for one key: like a {@link java.util.concurrent.Callable} that is told its key.
 *
 * <p>A task runs on a pool thread (virtual by default) and may block. It should answer
 * interruption promptly: the pool interrupts it on {@link WorkerPool#cancel(Object)}, on its
 * timeout, on a fail-fast failure of a sibling, on the fan-out's deadline and on a shutdown that
 * ran out of patience.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
@FunctionalInterface
public interface Task<K, V> {

  /**
   * Does the work for {@code key}.
   *
   * @param key the key this run is for
   * @return the value, reported as a {@link Result.Success}
   * @throws Exception any failure, reported as a {@link Result.Failure}
   */
  V call(K key) throws Exception;
}
