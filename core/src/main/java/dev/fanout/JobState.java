package dev.fanout;

/** Where a {@link Job} is in its life; read and written under the pool's lock. */
enum JobState {
  /** In the pool's queue, waiting for a worker. */
  QUEUED,
  /** Taken by a worker, which runs it. */
  RUNNING,
  /** Ended: run to its end, or dropped from the queue when cancelled. */
  FINISHED,
  /** A re-run waiting for the current run of its key to end; not in the queue yet. */
  PENDING
}
