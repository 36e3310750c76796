package dev.fanout.lease;

import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

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
 * <h2>Lease lost</h2>
 *
 * When {@link ClaimWorkers} learn that the lease of a claim they run is gone — its renewal was
 * refused: the lease ended, or the item was reclaimed or taken by another worker — they mark the
 * claim {@linkplain #isLeaseLost() lease lost} and interrupt the handler's thread. A handler that
 * writes downstream in steps can call {@link #checkLease()} between them; the fencing token above
 * is what makes the last, racing write harmless. The mark is shared by a claim and its {@linkplain
 * #withLeaseUntil renewed copies}; it is not part of {@link #equals equality}, and claims used
 * without {@code ClaimWorkers} are never marked.
 *
 * <p>Claims are values (equal when all six fields are), immutable but for the lease-lost mark, and
 * thread-safe.
 *
 * @param <T> the item type
 */
public final class Claim<T> {
  private final T item;
  private final String workerId;
  private final long token;
  private final Instant claimedAt;
  private final Instant leaseUntil;
  private final int attempt;
  /** Why the lease was lost, shared with renewed copies; null while it is not known to be lost. */
  private final AtomicReference<@Nullable String> lost;

  /**
   * A claim, as a store makes it; the fields are checked.
   *
   * @param item the claimed item
   * @param workerId the worker that holds the claim, not blank
   * @param token the fencing token: at least 1, strictly greater than the token of any earlier
   *     claim of the same item
   * @param claimedAt when the store granted the claim, by the store's clock
   * @param leaseUntil when the lease ends, by the store's clock, unless renewed: from then on the
   *     item may be {@linkplain ClaimLeaseRepository#reclaimExpired() reclaimed} and claimed by
   *     another worker; not before {@code claimedAt}
   * @param attempt which attempt of the item this is, at least 1: 1 for the first; claims that
   *     were {@linkplain ClaimLeaseRepository#giveBack given back}, and claims that expired before
   *     their run {@linkplain ClaimLeaseRepository#markStarted started}, do not count
   */
  public Claim(
      T item, String workerId, long token, Instant claimedAt, Instant leaseUntil, int attempt) {
    this(item, workerId, token, claimedAt, leaseUntil, attempt, new AtomicReference<>());
  }

  private Claim(
      T item,
      String workerId,
      long token,
      Instant claimedAt,
      Instant leaseUntil,
      int attempt,
      AtomicReference<@Nullable String> lost) {
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
    this.item = item;
    this.workerId = workerId;
    this.token = token;
    this.claimedAt = claimedAt;
    this.leaseUntil = leaseUntil;
    this.attempt = attempt;
    this.lost = lost;
  }

  /** The claimed item. */
  public T item() {
    return item;
  }

  /** The worker that holds the claim. */
  public String workerId() {
    return workerId;
  }

  /**
   * The fencing token: at least 1, strictly greater than the token of any earlier claim of the
   * same item.
   */
  public long token() {
    return token;
  }

  /** When the store granted the claim, by the store's clock. */
  public Instant claimedAt() {
    return claimedAt;
  }

  /**
   * When the lease ends, by the store's clock, unless renewed: from then on the item may be
   * {@linkplain ClaimLeaseRepository#reclaimExpired() reclaimed} and claimed by another worker.
   */
  public Instant leaseUntil() {
    return leaseUntil;
  }

  /**
   * Which attempt of the item this is: 1 for the first. Claims that were {@linkplain
   * ClaimLeaseRepository#giveBack given back}, and claims whose lease expired before their run
   * {@linkplain ClaimLeaseRepository#markStarted started}, do not count.
   */
  public int attempt() {
    return attempt;
  }

  /** This claim with its lease ending at {@code newLeaseUntil}, as after a renewal. */
  public Claim<T> withLeaseUntil(Instant newLeaseUntil) {
    return new Claim<>(item, workerId, token, claimedAt, newLeaseUntil, attempt, lost);
  }

  /**
   * Whether this claim's lease is known to be lost: {@link ClaimWorkers} found its renewal
   * refused (or the store refused another call on it). Once true, stays true. A handler that sees
   * it should stop and write nothing more; the item is someone else's, or will be.
   */
  public boolean isLeaseLost() {
    return lost.get() != null;
  }

  /**
   * Throws if this claim's lease is known to be lost; a cheap check a handler makes between
   * steps, before writing downstream.
   *
   * @throws LeaseLostException if {@link #isLeaseLost()}
   */
  public void checkLease() {
    String why = lost.get();
    if (why != null) {
      throw new LeaseLostException(this, why);
    }
  }

  /**
   * Marks this claim, and its renewed copies, lease lost.
   *
   * @return true if this call marked it, false if it was marked already
   */
  boolean markLeaseLost(String why) {
    return lost.compareAndSet(null, Objects.requireNonNull(why, "why"));
  }

  /** Equal when item, worker, token, claimedAt, leaseUntil and attempt are; the mark is ignored. */
  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof Claim<?> c
        && token == c.token
        && attempt == c.attempt
        && item.equals(c.item)
        && workerId.equals(c.workerId)
        && claimedAt.equals(c.claimedAt)
        && leaseUntil.equals(c.leaseUntil);
  }

  @Override
  public int hashCode() {
    return Objects.hash(item, workerId, token, claimedAt, leaseUntil, attempt);
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
        + (isLeaseLost() ? ", leaseLost" : "")
        + "]";
  }
}
