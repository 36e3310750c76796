/**
 * Hash-partitioned chunk processing with idempotent sinks: ingest chunks of events in parallel
 * without the duplicate-insert races of naive parallel chunks. Each event goes to the partition
 * its key hashes to ({@link dev.fanout.chunk.Partitioner}), so one key has one owner; partitions
 * run in parallel lanes; an {@link dev.fanout.chunk.IdempotentSink} is the final arbiter of
 * duplicates. See {@link dev.fanout.chunk.ChunkProcessor}.
 */
@NullMarked
package dev.fanout.chunk;

import org.jspecify.annotations.NullMarked;
