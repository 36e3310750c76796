package dev.fanout.k8s;

/**
 * Told of every plan run a {@link NamespaceWatcher} finishes: provisioned, failed, cancelled by a
 * deletion, cleaned up. Called on the worker thread that ran the plan, after the run (and, for a
 * successful creation, after the namespace was marked provisioned, see {@link #onMarkPending})
 * and before the run is counted in {@link NamespaceWatcher#status()}; keep it short. An exception it throws is logged and
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

  /**
   * A creation plan succeeded, but recording its completion mark on the namespace failed: the
   * run is "succeeded, mark pending". The watcher keeps retrying the mark (never the plan), with
   * backoff, until it is recorded; {@link #onPlanFinished} follows then. If the namespace is
   * deleted or replaced, or the watcher stops or loses the lease first, the mark is abandoned:
   * {@link #onPlanFinished} still follows, but the run is not counted as provisioned, and a later
   * term runs the plan again (steps are idempotent). Called at most once per run, on the worker
   * thread; does nothing unless overridden.
   *
   * @param report the succeeded run
   * @param error why the first attempt to record the mark failed
   */
  default void onMarkPending(PlanReport report, Throwable error) {}
}
