/**
 * Retries with backoff, told apart by kind of failure: {@link dev.fanout.retry.RetryPolicy} (the
 * entry point), {@link dev.fanout.retry.Backoff} with {@link dev.fanout.retry.Jitter}, throttling
 * as its own class ({@link dev.fanout.retry.ThrottledException}, {@link
 * dev.fanout.retry.RetryAfter}), and a shared {@link dev.fanout.retry.RetryBudget} against retry
 * storms.
 *
 * <p>Composition: a worker pool runs a task as deadline &gt; retry &gt; rate gate &gt; per-attempt
 * timeout &gt; task: every attempt, each retry included, passes the pool's gate. Where one task
 * makes several calls that must each pass a gate (pages, several APIs), acquire it per call
 * inside the task.
 */
@NullMarked
package dev.fanout.retry;

import org.jspecify.annotations.NullMarked;
