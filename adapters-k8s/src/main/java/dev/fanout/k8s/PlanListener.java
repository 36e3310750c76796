package dev.fanout.k8s;

/**
 * Told of every plan run a {@link NamespaceWatcher} finishes: provisioned, failed, cancelled by a
 * deletion, cleaned up. Called on the worker thread that ran the plan, after the run (and, for a
 * successful creation, after the namespace was marked provisioned) and before the run is counted
 * in {@link NamespaceWatcher#status()}; keep it short. An exception it throws is logged and
 * ignored.
 */
@FunctionalInterface
public interface PlanListener {

  /** A listener that does nothing. */
  static PlanListener none() {
    return (phase, report) -> {};
  }

  /**
   * A plan run finished.
   *
   * @param phase whether it was the creation or the deletion plan
   * @param report what each step did
   */
  void onPlanFinished(PlanPhase phase, PlanReport report);
}
