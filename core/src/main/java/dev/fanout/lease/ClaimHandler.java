package dev.fanout.lease;

/**
 * The work {@link ClaimWorkers} do for one claimed item. Returning normally completes the item;
 * throwing fails this attempt (the item is retried later, or marked failed on its last attempt).
 *
 * <p>The claim carries the item and its fencing {@linkplain Claim#token() token}: pass the token
 * to downstream writes to fence them against a worker that overran its lease. A handler is
 * interrupted when the renewal of its lease is refused (then {@link Claim#isLeaseLost()} is true,
 * and {@link Claim#checkLease()} throws; the run is stale and should write nothing more), and when
 * {@link ClaimWorkers#stop()} runs out of patience (the item is given back without counting the
 * attempt); either way it should return or throw promptly.
 *
 * @param <T> the item type
 */
@FunctionalInterface
public interface ClaimHandler<T> {

  /**
   * Works on one claimed item.
   *
   * @throws Exception to fail this attempt
   */
  void handle(Claim<T> claim) throws Exception;
}
