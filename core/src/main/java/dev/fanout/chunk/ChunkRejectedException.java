package dev.fanout.chunk;

import java.io.Serial;

/**
 * Thrown by {@link ChunkProcessor#process} when a chunk is malformed (null, or holding a null
 * event or an event without id). The bad chunk was not accepted, nothing of it was written, and
 * no further chunk was read; every chunk before it was processed completely, as
 * {@link #partialReport()} tells.
 */
public final class ChunkRejectedException extends IllegalArgumentException {
  @Serial private static final long serialVersionUID = 1L;

  private final transient ChunkReport<?> partialReport;

  ChunkRejectedException(String message, ChunkReport<?> partialReport) {
    super(message);
    this.partialReport = partialReport;
  }

  /** The report of the chunks before the rejected one, all of them processed. */
  public ChunkReport<?> partialReport() {
    return partialReport;
  }
}
