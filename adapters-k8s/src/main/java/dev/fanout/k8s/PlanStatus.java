package dev.fanout.k8s;

/** How a whole plan run ended. */
public enum PlanStatus {
  /** Every step succeeded. */
  SUCCEEDED,
  /** At least one step failed or timed out (its dependants were skipped); the others ran. */
  FAILED,
  /** The run was cancelled before it finished; see each step's status for how far it got. */
  CANCELLED
}
