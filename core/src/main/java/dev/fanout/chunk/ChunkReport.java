package dev.fanout.chunk;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What one {@link ChunkProcessor#process} run did. The numbers always add up:
 * {@code received = inserted + duplicatesInInput + duplicatesPrefetched + duplicatesAtSink +
 * failed}.
 *
 * @param chunks chunks read
 * @param received events read
 * @param inserted events the sink reported as new
 * @param duplicatesInInput events whose id another event of this run's input carries, and that
 *     one was written: a repeat of an id written (or pre-fetched) earlier in the run, a repeat
 *     within a batch, or a copy that failed when a later copy of its id was written
 * @param duplicatesPrefetched events whose id was among the pre-fetched existing ids
 * @param duplicatesAtSink events the sink found already stored (written by another process,
 *     outside the pre-fetched window, or by an earlier attempt that failed after storing part of
 *     its batch)
 * @param failed events that could not be written, on their own, after their batch's retries
 *     (see {@link ChunkProcessor} on isolation), and whose id no other event of the run wrote
 * @param failures the ids none of whose events could be written, each with the error of its last
 *     failed write (unmodifiable; in the order they first failed, partition by partition)
 * @param partitions per-partition counts, by partition number
 * @param elapsed wall time of the run
 * @param <K> the event id type
 */
public record ChunkReport<K>(
    int chunks,
    long received,
    long inserted,
    long duplicatesInInput,
    long duplicatesPrefetched,
    long duplicatesAtSink,
    long failed,
    Map<K, Throwable> failures,
    List<PartitionStats> partitions,
    Duration elapsed) {

  /** Copies the collections; checks that the counts add up. */
  public ChunkReport {
    Objects.requireNonNull(failures, "failures");
    Objects.requireNonNull(partitions, "partitions");
    Objects.requireNonNull(elapsed, "elapsed");
    failures = Collections.unmodifiableMap(new LinkedHashMap<>(failures));
    partitions = List.copyOf(partitions);
    long accounted =
        inserted + duplicatesInInput + duplicatesPrefetched + duplicatesAtSink + failed;
    if (accounted != received) {
      throw new IllegalArgumentException(
          "counts do not add up: received " + received + " but accounted for " + accounted);
    }
  }

  /**
   * One partition's share of a run.
   *
   * @param partition the partition number
   * @param received events routed to it
   * @param inserted events it wrote as new
   * @param failed events of its batches that failed for good
   * @param batches batches it wrote (one per chunk that had events for it to write)
   * @param retries attempts after the first, of batches and of their parts
   * @param isolationWrites writes of parts of batches that failed for good, made to find the
   *     events that fail (see {@link ChunkProcessor})
   */
  public record PartitionStats(
      int partition,
      long received,
      long inserted,
      long failed,
      int batches,
      int retries,
      int isolationWrites) {}

  /** Every kind of duplicate together. */
  public long duplicates() {
    return duplicatesInInput + duplicatesPrefetched + duplicatesAtSink;
  }

  /**
   * How unevenly events spread over partitions: the largest partition's count divided by the
   * mean (1.0 is perfectly even; with one partition always 1.0; 0 when nothing was received).
   */
  public double skew() {
    if (received == 0 || partitions.isEmpty()) {
      return 0.0;
    }
    long max = partitions.stream().mapToLong(PartitionStats::received).max().orElse(0);
    return max / ((double) received / partitions.size());
  }

  /**
   * One line, such as {@code 10000 received in 20 chunks: 7000 inserted, 2900 duplicates (1000
   * in input, 1500 pre-fetched, 400 at sink), 100 failed; 8 partitions, skew 1.03; 1.2 s}.
   */
  public String summary() {
    return String.format(
        Locale.ROOT,
        "%d received in %d chunks: %d inserted, %d duplicates (%d in input, %d pre-fetched, %d at"
            + " sink), %d failed; %d partition%s, skew %.2f; %.1f s",
        received,
        chunks,
        inserted,
        duplicates(),
        duplicatesInInput,
        duplicatesPrefetched,
        duplicatesAtSink,
        failed,
        partitions.size(),
        partitions.size() == 1 ? "" : "s",
        skew(),
        elapsed.toNanos() / 1e9);
  }
}
