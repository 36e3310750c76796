package dev.fanout.lease;

/**
 * How many items a {@link ClaimLeaseRepository} holds in each state, at one moment.
 *
 * @param pending waiting to be claimed (some perhaps not before a retry delay has passed)
 * @param claimed under a lease now, expired leases that were not yet reclaimed included
 * @param completed completed; never claimed again
 * @param failed given up on; never claimed again
 */
public record LeaseCounts(long pending, long claimed, long completed, long failed) {

  /** Validates that no count is negative. */
  public LeaseCounts {
    if (pending < 0 || claimed < 0 || completed < 0 || failed < 0) {
      throw new IllegalArgumentException(
          "counts must not be negative, were pending="
              + pending
              + " claimed="
              + claimed
              + " completed="
              + completed
              + " failed="
              + failed);
    }
  }

  /** All items in every state. */
  public long total() {
    return pending + claimed + completed + failed;
  }

  /** Whether nothing is left to do: no item pending or claimed. */
  public boolean settled() {
    return pending == 0 && claimed == 0;
  }
}
