package dev.fanout.chunk;

import java.io.Serial;
import org.jspecify.annotations.Nullable;

/**
 * Thrown by {@link ChunkProcessor#process} when a chunk is malformed: null, or holding a null
 * event, an event without id, an event whose partition key is null, or an event on which the id
 * or partition key function threw (that error is the {@linkplain #getCause() cause}). The bad
 * chunk was not accepted, nothing of it was written, and no further chunk was read; every chunk
 * before it was processed completely, as {@link #partialReport()} tells.
 *
 * <p>The message names the chunk (counted from 0) and the event's position in it (from 0), never
 * the event itself, so no event data reaches a log.
 */
public final class ChunkRejectedException extends IllegalArgumentException {
  @Serial private static final long serialVersionUID = 1L;

  private final transient ChunkReport<?> partialReport;

  ChunkRejectedException(String message, @Nullable Throwable cause, ChunkReport<?> partialReport) {
    super(message, cause);
    this.partialReport = partialReport;
  }

  /** The report of the chunks before the rejected one, all of them processed. */
  public ChunkReport<?> partialReport() {
    return partialReport;
  }
}
