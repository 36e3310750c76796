package dev.fanout.chunk;

import java.util.List;

/**
 * Where a {@link ChunkProcessor} writes events: a store for which writing the same event twice
 * changes nothing (a unique id with {@code ON CONFLICT DO NOTHING}, say). The sink is the final
 * arbiter of duplicates: whatever the processor removes before it is an optimisation only.
 *
 * <p>A processor calls {@link #write} from several lanes at once, each with events of its own
 * partition, so implementations must be thread-safe. A batch that fails may be written again
 * (retry), which idempotence makes safe.
 *
 * @param <E> the event type
 */
@FunctionalInterface
public interface IdempotentSink<E> {

  /**
   * Writes a batch.
   *
   * @param batch events in the order they should be written (one partition's share of a chunk)
   * @return how many of them were new, that is, not in the store before this call
   * @throws Exception if the batch could not be written; none, some or all of it may be stored
   */
  int write(List<E> batch) throws Exception;

  /**
   * Whether a write that failed with {@code failure} may succeed if tried again. A batch whose
   * failure is not transient is not retried: it is split at once to find the events that fail.
   * The default treats every failure as transient.
   *
   * @param failure what the write threw
   * @return {@code true} to let the retry policy try the batch again
   */
  default boolean isTransient(Throwable failure) {
    return true;
  }
}
