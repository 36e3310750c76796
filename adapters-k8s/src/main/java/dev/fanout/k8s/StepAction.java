package dev.fanout.k8s;

/**
 * What one step of a {@link ProvisioningPlan} does for one namespace: issue its certificate,
 * create its queues, delete its DNS record. Like a {@link Runnable} that may throw and is told
 * which namespace it works for.
 *
 * <p>An action runs on its own (virtual) thread and may block on I/O. It must answer
 * interruption promptly: a namespace deleted while it is being created, a step timeout and a
 * shutdown out of patience all interrupt the step. It should be idempotent (create-if-absent,
 * delete-if-present): a step can run again after a failed attempt, after a crash before the
 * namespace was marked provisioned, or when the plan's version changes.
 */
@FunctionalInterface
public interface StepAction {

  /**
   * Does the step's work.
   *
   * @param context the namespace, the step and its dependencies' outputs
   * @throws Exception any failure; the step's retry policy decides whether to try again
   */
  void run(StepContext context) throws Exception;
}
