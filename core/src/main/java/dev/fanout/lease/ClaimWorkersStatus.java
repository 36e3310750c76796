package dev.fanout.lease;

/**
 * A snapshot of a {@link ClaimWorkers}' counters. Counters are cumulative since {@link ClaimWorkers#start()}; {@code
 * activeWorkers}, {@code held} and {@code running} are current.
 *
 * <p>Every claim is accounted for, exactly, in every snapshot: each claimed item is held until it
 * ends in exactly one of the outcome counters, and the counters and {@code held} are read
 * together, so
 *
 * <pre>{@code
 * claimed == completed + failed + retried + givenBack + leaseLost + abandoned + held
 * }</pre>
 *
 * always holds ({@link #accountedFor()}).
 *
 * @param running whether the workers are started and not stopping
 * @param concurrency how many handlers may run at once (the configured {@link
 *     ClaimWorkersConfig#concurrency()})
 * @param activeWorkers how many handler tasks run now, at most {@code concurrency} (claimed items
 *     waiting for a worker are {@code held} but not active)
 * @param held claims held now: claimed and not yet completed, released, failed, given back, lost
 *     or abandoned
 * @param claimed items claimed
 * @param completed items completed (counted when the store confirmed it — also by answering a
 *     retry, made after a lost reply, with "already completed by this claim")
 * @param failed items marked failed after their last attempt
 * @param retried failed attempts released for a later retry
 * @param leaseLost claims found no longer current — taken over or reclaimed after their lease
 *     ended, or their renewal refused while their handler ran — when finishing them; each counts
 *     once. A call retried after a lost reply that finds the item already ended that way by the
 *     same claim is no lost lease: it counts as completed, failed, retried or given back
 * @param reclaimed expired leases this instance's reaper returned to the store (those of any
 *     worker, anywhere); not part of the balance above
 * @param givenBack claims given back unworked (at shutdown, or after a refused renewal before
 *     their handler started), which do not count as attempts
 * @param abandoned claims left to the reaper because the store kept failing (or refused a call as
 *     a bad argument) when they were to be settled; their leases run out and the items come back
 * @param storeErrors calls to the store that failed (each try counts); not part of the balance
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
    long reclaimed,
    long givenBack,
    long abandoned,
    long storeErrors) {

  /**
   * The claims that reached an outcome: {@code completed + failed + retried + givenBack +
   * leaseLost + abandoned}.
   */
  public long settled() {
    return completed + failed + retried + givenBack + leaseLost + abandoned;
  }

  /** Whether {@code claimed == settled() + held}; true of every snapshot {@link ClaimWorkers} take. */
  public boolean accountedFor() {
    return claimed == settled() + held;
  }

  /**
   * A status line: {@code running concurrency=3 activeWorkers=2 held=5 claimed=12 completed=7
   * failed=0 retried=1 leaseLost=0 reclaimed=0 givenBack=0 abandoned=0 storeErrors=0}.
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
        + reclaimed
        + " givenBack="
        + givenBack
        + " abandoned="
        + abandoned
        + " storeErrors="
        + storeErrors;
  }
}
