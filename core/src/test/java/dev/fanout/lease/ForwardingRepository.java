package dev.fanout.lease;

import java.time.Duration;
import java.util.Collection;
import java.util.List;

/** A repository that passes every call to another; tests override the calls they meddle with. */
class ForwardingRepository<T> implements ClaimLeaseRepository<T> {
  final ClaimLeaseRepository<T> delegate;

  ForwardingRepository(ClaimLeaseRepository<T> delegate) {
    this.delegate = delegate;
  }

  @Override
  public List<Claim<T>> claim(String workerId, int limit, Duration lease) {
    return delegate.claim(workerId, limit, lease);
  }

  @Override
  public Claim<T> renew(Claim<T> claim, Duration lease) {
    return delegate.renew(claim, lease);
  }

  @Override
  public BatchOutcome<T> renewAll(Collection<Claim<T>> claims, Duration lease) {
    return delegate.renewAll(claims, lease);
  }

  @Override
  public void markStarted(Claim<T> claim) {
    delegate.markStarted(claim);
  }

  @Override
  public void complete(Claim<T> claim) {
    delegate.complete(claim);
  }

  @Override
  public BatchOutcome<T> completeAll(Collection<Claim<T>> claims) {
    return delegate.completeAll(claims);
  }

  @Override
  public void release(Claim<T> claim, Duration retryAfter) {
    delegate.release(claim, retryAfter);
  }

  @Override
  public void giveBack(Claim<T> claim) {
    delegate.giveBack(claim);
  }

  @Override
  public void fail(Claim<T> claim, String reason) {
    delegate.fail(claim, reason);
  }

  @Override
  public int reclaimExpired(Duration jitter) {
    return delegate.reclaimExpired(jitter);
  }

  @Override
  public LeaseCounts counts() {
    return delegate.counts();
  }
}
