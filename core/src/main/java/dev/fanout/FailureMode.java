package dev.fanout;

/** What one failed key means for the rest of a fan-out. */
public enum FailureMode {
  /**
   * One failure never stops the others: every key runs and reports its own result. The default,
   * and what the multi-account scans want (one bad account must not hide the other 29).
   */
  COLLECT_ALL,
  /**
   * The first failure cancels the rest, like Go's {@code errgroup.WithContext}: queued keys are
   * reported cancelled without running, running ones are interrupted and reported cancelled.
   */
  FAIL_FAST
}
