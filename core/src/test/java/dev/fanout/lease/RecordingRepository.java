package dev.fanout.lease;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Delegates to another repository, records the calls ClaimWorkers make, and can play a store that
 * is down: while {@link #down} is set every call throws {@link LeaseStoreException}.
 */
final class RecordingRepository<T> implements ClaimLeaseRepository<T> {
  private final ClaimLeaseRepository<T> delegate;
  volatile boolean down;
  final ConcurrentLinkedQueue<Long> claimCallNanos = new ConcurrentLinkedQueue<>();
  final AtomicInteger claims = new AtomicInteger();
  final AtomicInteger renewAlls = new AtomicInteger();
  final AtomicInteger renewalsRefused = new AtomicInteger();
  final AtomicInteger completes = new AtomicInteger();
  final AtomicInteger completeAlls = new AtomicInteger();
  final AtomicInteger failures = new AtomicInteger();

  RecordingRepository(ClaimLeaseRepository<T> delegate) {
    this.delegate = delegate;
  }

  private void check() {
    if (down) {
      failures.incrementAndGet();
      throw new LeaseStoreException("store down", new java.io.IOException("connection refused"));
    }
  }

  @Override
  public List<Claim<T>> claim(String workerId, int limit, Duration lease) {
    claimCallNanos.add(System.nanoTime());
    claims.incrementAndGet();
    check();
    return delegate.claim(workerId, limit, lease);
  }

  @Override
  public Claim<T> renew(Claim<T> claim, Duration lease) {
    check();
    return delegate.renew(claim, lease);
  }

  @Override
  public BatchOutcome<T> renewAll(Collection<Claim<T>> claims, Duration lease) {
    check();
    BatchOutcome<T> outcome = delegate.renewAll(claims, lease);
    renewalsRefused.addAndGet(outcome.leaseLost().size());
    renewAlls.incrementAndGet();
    return outcome;
  }

  @Override
  public void markStarted(Claim<T> claim) {
    check();
    delegate.markStarted(claim);
  }

  @Override
  public void complete(Claim<T> claim) {
    completes.incrementAndGet();
    check();
    delegate.complete(claim);
  }

  @Override
  public BatchOutcome<T> completeAll(Collection<Claim<T>> claims) {
    completeAlls.incrementAndGet();
    check();
    return delegate.completeAll(claims);
  }

  @Override
  public void release(Claim<T> claim, Duration retryAfter) {
    check();
    delegate.release(claim, retryAfter);
  }

  @Override
  public void giveBack(Claim<T> claim) {
    check();
    delegate.giveBack(claim);
  }

  @Override
  public void fail(Claim<T> claim, String reason) {
    check();
    delegate.fail(claim, reason);
  }

  @Override
  public int reclaimExpired(Duration jitter) {
    check();
    return delegate.reclaimExpired(jitter);
  }

  @Override
  public LeaseCounts counts() {
    return delegate.counts();
  }
}
