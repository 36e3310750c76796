package dev.fanout.lease;

/**
 * The work {@link ClaimWorkers} do for one claimed item. Returning normally completes the item;
 * throwing fails this attempt (the item is retried later, or marked failed on its last attempt).
 *
 * <p>The claim carries the item and its fencing {@linkplain Claim#token() token}: pass the token
 * to downstream writes to fence them against a worker that overran its lease. A handler may be
 * interrupted when {@link ClaimWorkers#stop()} runs out of patience; it should then return or
 * throw promptly (the item is given back without counting the attempt).
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
