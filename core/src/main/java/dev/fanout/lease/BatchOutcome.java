package dev.fanout.lease;

import java.util.List;
import java.util.Objects;

/**
 * What a fenced batch call ({@link ClaimLeaseRepository#completeAll completeAll}, {@link
 * ClaimLeaseRepository#renewAll renewAll}) did, claim by claim.
 *
 * @param applied the claims the call took effect for — for {@code completeAll}, also those that had
 *     already completed their item (a retried batch); after a renewal, with their new {@link
 *     Claim#leaseUntil()}
 * @param leaseLost the claims, as given, that were no longer current and so changed nothing (in a
 *     batch this includes claims of items the store does not hold)
 * @param <T> the item type
 */
public record BatchOutcome<T>(List<Claim<T>> applied, List<Claim<T>> leaseLost) {

  /** Copies both lists; neither may be null. */
  public BatchOutcome {
    applied = List.copyOf(Objects.requireNonNull(applied, "applied must not be null"));
    leaseLost = List.copyOf(Objects.requireNonNull(leaseLost, "leaseLost must not be null"));
  }

  /** Whether every claim was applied. */
  public boolean allApplied() {
    return leaseLost.isEmpty();
  }
}
