package dev.fanout.k8s;

/** How one step of a plan run ended. */
public enum StepStatus {
  /** The action returned normally (possibly after retries). */
  SUCCEEDED,
  /** The action failed and its retry policy gave up; its dependants are {@link #SKIPPED}. */
  FAILED,
  /** The step ran past its timeout and was interrupted; its dependants are {@link #SKIPPED}. */
  TIMED_OUT,
  /** The step never ran because a step it depends on did not succeed. */
  SKIPPED,
  /**
   * The run was cancelled (the namespace was deleted while being created, or the watcher shut
   * down or lost leadership): the step was interrupted while running, or never started.
   */
  CANCELLED;

  /** Whether the step ended in failure: {@link #FAILED} or {@link #TIMED_OUT}. */
  public boolean isFailure() {
    return this == FAILED || this == TIMED_OUT;
  }
}
