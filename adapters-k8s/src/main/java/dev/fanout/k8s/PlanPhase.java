package dev.fanout.k8s;

/** Which of a watcher's plans a report is about. */
public enum PlanPhase {
  /** The creation plan, run for a new (or not yet provisioned) namespace. */
  CREATION,
  /** The deletion plan, run after a namespace was deleted. */
  DELETION
}
