package dev.fanout.lease;

/**
 * The states an item goes through in a {@link ClaimLeaseRepository}. Stores that keep the state
 * in a column (as {@code dev.fanout.jdbc.JdbcClaimLeaseRepository} does) write these names.
 *
 * <pre>
 *            claim                complete
 *   PENDING ───────▶ CLAIMED ─────────────▶ COMPLETED
 *      ▲                │ │      fail
 *      │ release,       │ └─────────────▶ FAILED
 *      │ giveBack,      │
 *      └ reclaimExpired ┘
 * </pre>
 */
public enum LeaseState {
  /** Waiting to be claimed, possibly not before a retry time. */
  PENDING,
  /** Held by one worker under a lease. */
  CLAIMED,
  /** Done; never claimed again. */
  COMPLETED,
  /** Given up on; never claimed again. */
  FAILED
}
