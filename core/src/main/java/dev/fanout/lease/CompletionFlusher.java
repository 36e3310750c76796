package dev.fanout.lease;

import dev.fanout.time.Ticker;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Completes the claims that workers hand over in batches of up to {@link
 * ClaimWorkersConfig#completionBatchSize() completionBatchSize}, one fenced {@link
 * ClaimLeaseRepository#completeAll completeAll} each, lingering at most {@link
 * ClaimWorkersConfig#completionFlushInterval() completionFlushInterval} (by the workers' ticker)
 * for a batch to fill. Several flusher threads may share one instance and its queue; each runs
 * {@link #run()} until {@link #finish()} and the queue is empty.
 */
final class CompletionFlusher<T> implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(ClaimWorkers.class);
  /** The longest single wait on the queue, so that {@link #finish()} is noticed while lingering. */
  private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final String name;
  private final ClaimLeaseRepository<T> repository;
  private final Tally<T> tally;
  private final StoreCalls<T> calls;
  private final Ticker ticker;
  private final LinkedBlockingQueue<Held<T>> queue;
  private final int max;
  private final long lingerNanos;
  private volatile boolean finishing;
  private volatile boolean drained;

  CompletionFlusher(
      String name,
      ClaimLeaseRepository<T> repository,
      Tally<T> tally,
      StoreCalls<T> calls,
      Ticker ticker,
      ClaimWorkersConfig config) {
    this.name = name;
    this.repository = repository;
    this.tally = tally;
    this.calls = calls;
    this.ticker = ticker;
    this.max = config.completionBatchSize();
    this.lingerNanos = config.completionFlushInterval().toNanos();
    this.queue =
        new LinkedBlockingQueue<>(
            Math.max(config.completionBatchSize(), config.batchSize()) * config.concurrency() * 2);
  }

  /**
   * Hands a finished claim over to be completed; waits while the queue is full. The caller marks
   * it {@linkplain Held#settling settling} first.
   *
   * @return false if the flusher has been drained for good ({@link #flushRest()}) and did not take
   *     the claim: the caller completes it itself
   */
  boolean put(Held<T> h) throws InterruptedException {
    while (!queue.offer(h, SLICE_NANOS, TimeUnit.NANOSECONDS)) {
      if (drained) {
        return false;
      }
    }
    // Offered before reading the flag, and flushRest sets the flag before it drains: either
    // flushRest drains this claim, or we see the flag and take it back.
    return !drained || !queue.remove(h);
  }

  /** Tells the flusher threads to flush what is queued and end. */
  void finish() {
    finishing = true;
  }

  /**
   * Completes what is still queued on the calling thread (after the flusher threads ended); later
   * {@link #put}s are refused.
   */
  void flushRest() {
    drained = true;
    if (!queue.isEmpty()) {
      List<Held<T>> rest = new ArrayList<>();
      queue.drainTo(rest);
      flush(rest);
    }
  }

  @Override
  public void run() {
    List<Held<T>> batch = new ArrayList<>(max);
    while (true) {
      Held<T> first;
      try {
        first = queue.poll(SLICE_NANOS, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        first = queue.poll();
      }
      if (first == null) {
        if (finishing && queue.isEmpty()) {
          return;
        }
        continue;
      }
      batch.add(first);
      queue.drainTo(batch, max - batch.size());
      long deadline = ticker.read() + lingerNanos;
      while (batch.size() < max && !finishing) {
        long left = deadline - ticker.read();
        if (left <= 0) {
          break;
        }
        Held<T> next;
        try {
          next = queue.poll(Math.min(left, SLICE_NANOS), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          break;
        }
        if (next != null) {
          batch.add(next);
          queue.drainTo(batch, max - batch.size());
        }
      }
      flush(batch);
      batch.clear();
    }
  }

  private void flush(List<Held<T>> batch) {
    List<Claim<T>> claims = new ArrayList<>(batch.size());
    for (Held<T> h : batch) {
      claims.add(h.claim);
    }
    StoreCalls.@Nullable Answer<BatchOutcome<T>> answer = null;
    try {
      answer =
          calls.batch(
              name, "complete " + claims.size() + " items", () -> repository.completeAll(claims));
      BatchOutcome<T> outcome = answer.value();
      if (outcome != null && !outcome.leaseLost().isEmpty()) {
        log.warn(
            "{}: could not complete {} of {} items, their leases were taken over: {}",
            name,
            outcome.leaseLost().size(),
            claims.size(),
            outcome.leaseLost());
      }
    } finally {
      // Counted claim by claim: one the store did not report applied was not completed.
      @Nullable BatchOutcome<T> outcome = answer == null ? null : answer.value();
      Set<Claim<T>> applied = outcome == null ? Set.of() : new HashSet<>(outcome.applied());
      for (Held<T> h : batch) {
        Tally.Outcome settled;
        if (outcome == null) {
          settled = Tally.Outcome.ABANDONED;
        } else if (applied.contains(h.claim)) {
          settled = Tally.Outcome.COMPLETED;
        } else {
          h.claim.markLeaseLost("the store refused to complete it");
          settled = Tally.Outcome.LEASE_LOST;
        }
        tally.settled(h, settled);
      }
    }
  }
}
