package dev.fanout.lease;

import java.time.Instant;
import java.util.Objects;

/**
 * One worker's lease on one item, as handed out by {@link ClaimLeaseRepository#claim}. A claim is
 * a receipt: hand it back to {@link ClaimLeaseRepository#complete complete}, {@link
 * ClaimLeaseRepository#release release}, {@link ClaimLeaseRepository#fail fail} or {@link
 * ClaimLeaseRepository#renew renew}, and the store applies the call only while this claim is still
 * the item's current one.
 *
 * <h2>The fencing token</h2>
 *
 * {@link #token()} grows strictly with every claim of the same item, whoever claims it. A worker
 * that was paused past its lease (a long GC, a frozen VM, a lost network) may wake up holding a
 * claim whose item has since been claimed by someone else: its token is then lower than the
 * item's current one, and every call it makes reports {@link LeaseLostException} and changes
 * nothing. Pass the token on to the systems your handler writes to, and have them refuse a write
 * whose token is lower than one they have seen, to fence those writes too:
 *
 * {@snippet :
 * // in the handler: a downstream write that a stale worker cannot overwrite
 * jdbc.update("UPDATE credential SET valid = ?, checked_token = ? WHERE id = ? AND checked_token < ?",
 *     valid, claim.token(), claim.item().id(), claim.token());
 * }
 *
 * @param item the claimed item
 * @param workerId the worker that holds the claim
 * @param token the fencing token: at least 1, strictly greater than the token of any earlier
 *     claim of the same item
 * @param claimedAt when the store granted the claim, by the store's clock
 * @param leaseUntil when the lease ends, by the store's clock, unless renewed: from then on the
 *     item may be {@linkplain ClaimLeaseRepository#reclaimExpired() reclaimed} and claimed by
 *     another worker
 * @param attempt which claim of the item this is: 1 for the first; claims that were {@linkplain
 *     ClaimLeaseRepository#giveBack given back} do not count
 * @param <T> the item type
 */
public record Claim<T>(
    T item, String workerId, long token, Instant claimedAt, Instant leaseUntil, int attempt) {

  /** Validates the fields; see the class documentation. */
  public Claim {
    Objects.requireNonNull(item, "item must not be null");
    Objects.requireNonNull(workerId, "workerId must not be null");
    if (workerId.isBlank()) {
      throw new IllegalArgumentException("workerId must not be blank, was \"" + workerId + "\"");
    }
    if (token < 1) {
      throw new IllegalArgumentException("token must be at least 1, was " + token);
    }
    Objects.requireNonNull(claimedAt, "claimedAt must not be null");
    Objects.requireNonNull(leaseUntil, "leaseUntil must not be null");
    if (leaseUntil.isBefore(claimedAt)) {
      throw new IllegalArgumentException(
          "leaseUntil must not be before claimedAt (" + claimedAt + "), was " + leaseUntil);
    }
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt must be at least 1, was " + attempt);
    }
  }

  /** This claim with its lease ending at {@code newLeaseUntil}, as after a renewal. */
  public Claim<T> withLeaseUntil(Instant newLeaseUntil) {
    return new Claim<>(item, workerId, token, claimedAt, newLeaseUntil, attempt);
  }

  @Override
  public String toString() {
    return "Claim[item="
        + item
        + ", workerId="
        + workerId
        + ", token="
        + token
        + ", attempt="
        + attempt
        + ", leaseUntil="
        + leaseUntil
        + "]";
  }
}
