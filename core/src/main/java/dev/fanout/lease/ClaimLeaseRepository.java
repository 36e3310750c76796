package dev.fanout.lease;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The store that hands out items to workers under leases: the SPI behind {@link ClaimWorkers}.
 * Where a {@link java.util.concurrent.BlockingQueue} hands an element to one consumer and forgets
 * it, a claim-lease store keeps the item until its worker says it is done, takes it back when the
 * worker vanishes, and — unlike most job stores — refuses every call from a worker whose lease was
 * taken over, by a fencing {@linkplain Claim#token() token}.
 *
 * {@snippet :
 * List<Claim<Long>> claims = repository.claim("worker-1", 10, Duration.ofMinutes(1));
 * for (Claim<Long> claim : claims) {
 *   try {
 *     repository.markStarted(claim); // from now on a crash counts as an attempt
 *     check(claim.item());
 *     repository.complete(claim);
 *   } catch (LeaseLostException e) {
 *     // someone else owns the item now: drop it
 *   } catch (RuntimeException e) {
 *     repository.release(claim, Duration.ofSeconds(30)); // try again in 30 s
 *   }
 * }
 * }
 *
 * <h2>Semantics every implementation keeps</h2>
 *
 * Items move between the {@link LeaseState states} PENDING, CLAIMED, COMPLETED and FAILED.
 *
 * <ul>
 *   <li><b>Atomic claims.</b> {@link #claim claim} moves up to {@code limit} available items to
 *       CLAIMED in one atomic step per item: two workers, threads or processes never get the same
 *       item under live leases. Items become available in the order they became pending, as far as
 *       the store can tell.
 *   <li><b>Fencing.</b> Each claim of an item gets a token greater than every earlier token of
 *       that item. {@link #renew renew}, {@link #complete complete}, {@link #release release},
 *       {@link #giveBack giveBack} and {@link #fail fail} apply only while the given claim is the
 *       item's current one — same token, still CLAIMED — and otherwise throw {@link
 *       LeaseLostException} and change nothing; except that settling twice the same way is no
 *       error (below).
 *   <li><b>Settling twice the same way succeeds.</b> A call that ends a claim — {@link #complete
 *       complete}, {@link #fail fail}, {@link #release release}, {@link #giveBack giveBack}, and
 *       {@link #completeAll completeAll} per claim — made again with the claim (same item, token
 *       and {@linkplain Claim#workerId() worker}) that already ended the item in exactly that way
 *       returns normally and changes nothing. This is what makes a retry safe when the store
 *       applied a call but its reply was lost (a {@link LeaseStoreException} tells the caller only
 *       that the outcome is unknown): the retry learns that the call took effect, not that the
 *       lease was lost. It is recognised as long as the item still shows it: for ever for complete
 *       and fail (COMPLETED and FAILED are final); for release and giveBack until the item is
 *       claimed again. Settling it another way (failing a completed item, completing a released
 *       one), or with a claim that is not the item's latest, or after the reaper took the item
 *       back, is still {@link LeaseLostException}.
 *   <li><b>Leases end by the store's clock.</b> A lease is live while the store's clock is before
 *       {@link Claim#leaseUntil()}. {@link #renew renew} needs a live lease. {@link
 *       #reclaimExpired()} returns items whose lease ended to PENDING, each guarded by its token
 *       and by expiry checked at the moment of the change, so a lease renewed a moment ago is
 *       never taken back. Workers' own clocks never decide.
 *   <li><b>A late worker may still finish.</b> completing, releasing, giving back or failing
 *       needs the claim to be current, not the lease to be live: a worker that overran its lease
 *       but whose item nobody reclaimed or took may still complete it, and nothing is lost.
 *   <li><b>Attempts count runs that started.</b> {@link Claim#attempt()} counts the item's
 *       claims, except those {@linkplain #giveBack given back} and those whose lease expired
 *       before their run was {@linkplain #markStarted marked started}. A lease that expired while
 *       the item's handler ran (a worker that crashed on it) counts; a batch-mate that was claimed
 *       with it but never reached does not, so items do not burn attempts for runs that never
 *       happened. Deciding when to give up (see {@link ClaimWorkersConfig#maxAttempts()}) is the
 *       caller's business.
 *   <li><b>Reclaimed items spread out.</b> {@link #reclaimExpired(Duration)} makes each returned
 *       item available at its own random moment within the given jitter, so that the items of one
 *       dead worker are not claimed together again as one batch.
 * </ul>
 *
 * <p>Implementations must be thread-safe. {@code IllegalArgumentException} reports bad
 * arguments — a limit below 1, a lease that is not positive, a claim of an item the store does not
 * hold or with a token it never issued; {@link LeaseStoreException} reports a failing store.
 *
 * <p>The abstract test class {@code dev.fanout.testkit.AbstractClaimLeaseRepositoryTest} (artifact
 * {@code fanout-testkit}) checks all of this; extend it to test an implementation of your own.
 *
 * @param <T> the item type; items are told apart by {@code equals}
 */
public interface ClaimLeaseRepository<T> {

  /**
   * Atomically claims up to {@code limit} available items — PENDING and not held back by a
   * retry time — for {@code workerId}, each under a lease of {@code lease} from now by the store's
   * clock.
   *
   * @return the new claims, none if nothing is available; never more than {@code limit}
   * @throws IllegalArgumentException if {@code workerId} is blank, {@code limit < 1} or {@code
   *     lease} is not positive
   */
  List<Claim<T>> claim(String workerId, int limit, Duration lease);

  /**
   * Extends a live lease to {@code lease} from now, by the store's clock.
   *
   * @return the claim with its new {@link Claim#leaseUntil()}
   * @throws LeaseLostException if the claim is not current or its lease has ended
   * @throws IllegalArgumentException if {@code lease} is not positive, or the store never issued
   *     this claim
   */
  Claim<T> renew(Claim<T> claim, Duration lease);

  /**
   * Records that the run of this claim's item starts now: from here on the claim counts as an
   * attempt even if its lease expires (the worker may have crashed on the item). Call it right
   * before working on the item; calling it again for the same claim changes nothing. A claim whose
   * lease expires unmarked does not count as an attempt when it is {@linkplain #reclaimExpired
   * reclaimed}.
   *
   * @throws LeaseLostException if the claim is not current or its lease has ended
   * @throws IllegalArgumentException if the store never issued this claim
   */
  void markStarted(Claim<T> claim);

  /**
   * Marks the claimed item COMPLETED; it is never claimed again. If this claim already completed
   * it, returns normally and changes nothing.
   *
   * @throws LeaseLostException if the claim is not current and did not complete the item
   * @throws IllegalArgumentException if the store never issued this claim
   */
  void complete(Claim<T> claim);

  /**
   * Returns the item to PENDING, to be claimed again no sooner than {@code retryAfter} from now
   * by the store's clock ({@link Duration#ZERO} for at once). The claim counts as an attempt:
   * this is how a failed attempt is retried later. If this claim already released the item and
   * nobody claimed it since, returns normally and changes nothing (the first call's retry time
   * stands).
   *
   * @throws LeaseLostException if the claim is not current and did not release the item
   * @throws IllegalArgumentException if {@code retryAfter} is negative, or the store never issued
   *     this claim
   */
  void release(Claim<T> claim, Duration retryAfter);

  /**
   * Returns the item to PENDING, available at once, and does not count this claim as an
   * attempt: for items claimed but not worked on, as when a worker stops. If this claim already
   * gave the item back and nobody claimed it since, returns normally and changes nothing.
   *
   * @throws LeaseLostException if the claim is not current and did not give the item back
   * @throws IllegalArgumentException if the store never issued this claim
   */
  void giveBack(Claim<T> claim);

  /**
   * Marks the claimed item FAILED with {@code reason}; it is never claimed again. Stores may
   * shorten a long reason. If this claim already failed the item, returns normally and changes
   * nothing (the first reason stands).
   *
   * @throws LeaseLostException if the claim is not current and did not fail the item
   * @throws IllegalArgumentException if the store never issued this claim
   */
  void fail(Claim<T> claim, String reason);

  /**
   * Returns every item whose lease has ended, by the store's clock, to PENDING, available at once;
   * the same as {@link #reclaimExpired(Duration) reclaimExpired(Duration.ZERO)}.
   *
   * @return how many items were returned
   */
  default int reclaimExpired() {
    return reclaimExpired(Duration.ZERO);
  }

  /**
   * Returns every item whose lease has ended, by the store's clock, to PENDING, each available
   * again at a random moment between now and {@code jitter} from now (drawn per item, so that
   * items reclaimed together are claimed apart). The expired claim counts as an attempt only if
   * its run was {@linkplain #markStarted marked started}. Each item is guarded by its token and by
   * expiry checked when it is changed, so an item renewed or completed meanwhile is left alone.
   * Safe to call from many processes at once.
   *
   * @return how many items were returned
   * @throws IllegalArgumentException if {@code jitter} is negative
   */
  int reclaimExpired(Duration jitter);

  /**
   * Renews many claims at once, each fenced as in {@link #renew renew}. Stores that can should do
   * it in one round trip per batch; this default renews one by one.
   *
   * @throws IllegalArgumentException if {@code lease} is not positive
   */
  default BatchOutcome<T> renewAll(Collection<Claim<T>> claims, Duration lease) {
    if (lease.isNegative() || lease.isZero()) {
      throw new IllegalArgumentException("lease must be positive, was " + lease);
    }
    List<Claim<T>> applied = new ArrayList<>(claims.size());
    List<Claim<T>> lost = new ArrayList<>();
    for (Claim<T> claim : claims) {
      try {
        applied.add(renew(claim, lease));
      } catch (LeaseLostException | IllegalArgumentException e) {
        lost.add(claim);
      }
    }
    return new BatchOutcome<>(applied, lost);
  }

  /**
   * Completes many claims at once, each fenced as in {@link #complete complete}: a claim that
   * already completed its item counts as {@linkplain BatchOutcome#applied() applied}, so that the
   * batch can be retried as a whole when its reply was lost. Stores that can should do it in one
   * round trip per batch; this default completes one by one.
   */
  default BatchOutcome<T> completeAll(Collection<Claim<T>> claims) {
    List<Claim<T>> applied = new ArrayList<>(claims.size());
    List<Claim<T>> lost = new ArrayList<>();
    for (Claim<T> claim : claims) {
      try {
        complete(claim);
        applied.add(claim);
      } catch (LeaseLostException | IllegalArgumentException e) {
        lost.add(claim);
      }
    }
    return new BatchOutcome<>(applied, lost);
  }

  /** How many items are in each state now. May scan the whole store. */
  LeaseCounts counts();
}
