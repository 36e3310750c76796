package dev.fanout;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The pool's keyed submissions, with the Kubernetes workqueue guarantees: one run per key at a
 * time; a submission while queued is coalesced, while running it joins or leaves one re-run.
 */
final class KeyedRuns {
  private final PoolCore core;
  private final Workers workers;
  /** Each key's queued or running run; that run holds the pending re-run. Guarded by lock. */
  private final Map<Object, Job> runs = new HashMap<>();

  KeyedRuns(PoolCore core, Workers workers) {
    this.core = core;
    this.workers = workers;
  }

  /** See {@link WorkerPool#submit(Object, Task, WhileRunning)}. */
  @SuppressWarnings("unchecked")
  <K, V> TaskHandle<K, V> submit(
      K key, Task<? super K, ? extends V> task, WhileRunning whileRunning) {
    Task<Object, Object> untypedTask = (Task<Object, Object>) task;
    @Nullable Object context = core.propagator.capture();
    Job handleOwner;
    List<Thread> started;
    core.lock.lock();
    try {
      core.ensureAccepting();
      Job current = runs.get(key);
      if (current == null) {
        handleOwner = Job.ofKey(key, untypedTask, context, core, this);
        runs.put(key, handleOwner);
        workers.enqueue(handleOwner);
      } else if (current.state == JobState.QUEUED) {
        current.task = untypedTask;
        current.context = context;
        handleOwner = current;
      } else if (whileRunning == WhileRunning.JOIN && !current.isCompleted()) {
        handleOwner = current;
      } else {
        if (current.rerun == null) {
          current.rerun = Job.ofKey(key, untypedTask, context, core, this);
          current.rerun.state = JobState.PENDING;
        } else {
          current.rerun.task = untypedTask;
          current.rerun.context = context;
        }
        handleOwner = current.rerun;
      }
      started = workers.spawn();
    } finally {
      core.lock.unlock();
    }
    Workers.startAll(started);
    return (TaskHandle<K, V>) Objects.requireNonNull(handleOwner.handle);
  }

  /**
   * Cancels the key's run and its pending re-run (see {@link TaskHandle#cancel()}).
   *
   * @return whether anything was cancelled
   */
  boolean cancel(Object key) {
    List<Job> targets = new ArrayList<>();
    core.lock.lock();
    try {
      collect(key, targets);
    } finally {
      core.lock.unlock();
    }
    return workers.cancelJobs(targets, "cancelled by cancel(" + key + ")") > 0;
  }

  /**
   * Under lock: adds the key's run and its pending re-run to {@code targets}, for cancelling; the
   * re-run is detached from the run, so it will not be queued.
   */
  void collect(Object key, List<Job> targets) {
    Job current = runs.get(key);
    if (current != null) {
      targets.add(current);
      if (current.rerun != null) {
        targets.add(current.rerun);
        current.rerun = null;
      }
    }
  }

  /** Under lock: {@code done} ended; its key's pending re-run, if any, is queued in its place. */
  void finished(Job done) {
    if (runs.get(done.key) == done) {
      Job rerun = done.rerun;
      done.rerun = null;
      if (rerun != null && !rerun.isCompleted()) {
        runs.put(done.key, rerun);
        workers.enqueue(rerun);
      } else {
        runs.remove(done.key);
      }
    }
  }

  /** Under lock: the queued {@code job} was cancelled and left the queue. */
  void dropped(Job job) {
    if (runs.get(job.key) == job) {
      runs.remove(job.key);
    }
  }
}
