package dev.fanout;

/**
 * A snapshot of a {@link WorkerPool}'s counters. Counters are cumulative since the pool was
 * created; {@code active} and {@code queued} are current.
 *
 * @param active tasks running now (at most the pool's {@code concurrency})
 * @param queued tasks accepted and waiting for a worker
 * @param completed tasks that ended in a {@link Result.Success}
 * @param failed tasks that ended in a {@link Result.Failure}, cancelled and timed-out ones included
 * @param retried retry attempts made (each attempt after a task's first counts once)
 */
public record PoolStatus(int active, int queued, long completed, long failed, long retried) {}
