package dev.fanout.lease;

/**
 * A snapshot of a {@link ClaimWorkers}' counters, in the style of the credential checker's
 * {@code CheckStatus}. Counters are cumulative since {@link ClaimWorkers#start()}; {@code
 * activeWorkers}, {@code held} and {@code running} are current.
 *
 * @param running whether the workers are started and not stopping
 * @param concurrency how many workers there are (the configured {@link
 *     ClaimWorkersConfig#concurrency()})
 * @param activeWorkers how many of them are working on claimed items now (the others are polling
 *     or idle)
 * @param held claims held now: claimed and not yet completed, released, failed or given back
 * @param claimed items claimed
 * @param completed items completed (counted when the store confirmed it)
 * @param failed items marked failed after their last attempt
 * @param retried failed attempts released for a later retry
 * @param leaseLost claims found no longer current — taken over after their lease ended — at
 *     renewal or when finishing them; each counts once
 * @param reclaimed expired leases this instance's reaper returned to the store (those of any
 *     worker, anywhere)
 */
public record ClaimWorkersStatus(
    boolean running,
    int concurrency,
    int activeWorkers,
    int held,
    long claimed,
    long completed,
    long failed,
    long retried,
    long leaseLost,
    long reclaimed) {

  /**
   * A status line: {@code running concurrency=3 activeWorkers=2 held=5 claimed=12 completed=7
   * failed=0 retried=1 leaseLost=0 reclaimed=0}.
   */
  public String summary() {
    return (running ? "running" : "stopped")
        + " concurrency="
        + concurrency
        + " activeWorkers="
        + activeWorkers
        + " held="
        + held
        + " claimed="
        + claimed
        + " completed="
        + completed
        + " failed="
        + failed
        + " retried="
        + retried
        + " leaseLost="
        + leaseLost
        + " reclaimed="
        + reclaimed;
  }
}
