/**
 * Retries with backoff, told apart by kind of failure: {@link dev.fanout.retry.RetryPolicy} (the
 * entry point), {@link dev.fanout.retry.Backoff} with {@link dev.fanout.retry.Jitter}, throttling
 * as its own class ({@link dev.fanout.retry.ThrottledException}, {@link
 * dev.fanout.retry.RetryAfter}), and a shared {@link dev.fanout.retry.RetryBudget} against retry
 * storms.
 *
 * <p>Composition: a worker pool runs a task as deadline &gt; rate gate &gt; retry &gt; per-task
 * timeout &gt; task. A retry does not pass the pool's gate again; to make every attempt pass a gate
 * (an API that throttles per account), acquire the gate inside the task.
 */
@NullMarked
package dev.fanout.retry;

import org.jspecify.annotations.NullMarked;
