package dev.fanout;

/**
 * What {@link WorkerPool#submit(Object, Task, WhileRunning)} does when the key's task is already
 * running. (A key that is only queued is always coalesced: the queued entry keeps its place, runs
 * once, with the most recently submitted task, and every submitter gets the same handle.)
 *
 * <p>Either way, one key never runs twice at the same time: these are the guarantees of the
 * Kubernetes client-go workqueue.
 */
public enum WhileRunning {
  /** The caller gets the running task's handle and shares its result. */
  JOIN,
  /**
   * The key is marked dirty and runs once more after the current run ends, with the most recently
   * submitted task; the caller gets the handle of that re-run. Any number of submissions during
   * one run make a single re-run. Use it when the submission means "something changed, look
   * again" (a watch event arriving while the previous one is being handled).
   */
  RERUN
}
