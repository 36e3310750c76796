package dev.fanout.lease;

/**
 * The claim given to a fenced call is no longer the item's current claim, so the call changed
 * nothing: the lease expired and was {@linkplain ClaimLeaseRepository#reclaimExpired()
 * reclaimed}, another worker claimed the item since (with a higher {@linkplain Claim#token()
 * token}), or the claim already ended the item another way (it completed an item it now tries to
 * fail, say). Ending an item again the way the same claim already ended it is no such error: it
 * succeeds and changes nothing (see {@link ClaimLeaseRepository}), so a worker that retries a call
 * whose reply was lost does not take its own success for a lost lease.
 *
 * <p>This is an expected outcome in a distributed system, not a bug: the item is someone else's
 * now, and the right reaction is to drop it. {@link ClaimWorkers} counts these as {@code
 * leaseLost}. Like other cheap rejections it carries no stack trace; the message says what the
 * store found.
 */
public final class LeaseLostException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Claim<?> claim;

  /**
   * @param claim the claim that was refused
   * @param detail what the store found instead, e.g. "now claimed with token 5"
   */
  public LeaseLostException(Claim<?> claim, String detail) {
    super(
        "lease lost on item "
            + claim.item()
            + " (token "
            + claim.token()
            + ", worker "
            + claim.workerId()
            + "): "
            + detail,
        null,
        false,
        false);
    this.claim = claim;
  }

  /** The claim that was refused. */
  public Claim<?> claim() {
    return claim;
  }
}
