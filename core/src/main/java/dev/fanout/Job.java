package dev.fanout;

import dev.fanout.context.ContextPropagator;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * One run of one key, from a fan-out or a keyed submission; calling it calls the task once (the
 * pool's policies go around it). It is completed exactly once, by whoever gets there first: its
 * worker or a cancellation.
 */
final class Job implements Callable<@Nullable Object>, BooleanSupplier {
  private static final VarHandle COMPLETED;

  static {
    try {
      COMPLETED = MethodHandles.lookup().findVarHandle(Job.class, "completedFlag", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final Object key;
  final PoolCore core;
  final @Nullable FanOutRun fanOut;
  /** The keyed submissions this run belongs to; {@code null} for a fan-out's job. */
  final @Nullable KeyedRuns keyed;
  private final @Nullable CompletableFuture<Result<Object, Object>> future;
  final @Nullable TaskHandle<Object, Object> handle;
  /** When the job was made: its fan-out's start, so a fan-out reads the clock once. */
  final long createdNanos;
  /**
   * Replaced by coalescing while queued. Written under the lock while the job is queued or
   * pending and read by the worker that took it under the lock, so plain fields suffice: a job
   * is made by the thousand per fan-out, and a volatile write each would cost a fence.
   */
  Task<Object, Object> task;
  /** The submitter's context, restored around each attempt; replaced with the task. */
  @Nullable Object context;
  /** The result, set once by whoever completes the job, before its fan-out counts it done. */
  @Nullable Result<Object, Object> result;
  /** When a worker took the job; 0 until then. Set under lock. */
  long startNanos;
  JobState state = JobState.QUEUED; // guarded by lock
  @Nullable Thread thread; // guarded by lock; set while RUNNING
  @Nullable Job rerun; // guarded by lock
  @SuppressWarnings("unused") // accessed through COMPLETED
  private volatile int completedFlag;

  private Job(
      Object key,
      Task<Object, Object> task,
      @Nullable Object context,
      PoolCore core,
      @Nullable FanOutRun fanOut,
      @Nullable KeyedRuns keyed) {
    this.key = key;
    this.task = task;
    this.context = context;
    this.core = core;
    this.fanOut = fanOut;
    this.keyed = keyed;
    this.createdNanos = fanOut != null ? fanOut.startNanos : System.nanoTime();
    if (keyed != null) {
      this.future = new CompletableFuture<>();
      this.handle = new TaskHandle<>(key, future, keyed);
    } else {
      this.future = null;
      this.handle = null;
    }
  }

  /** A job of {@code fanOut}, which reports its result. */
  static Job ofFanOut(
      Object key,
      Task<Object, Object> task,
      @Nullable Object context,
      PoolCore core,
      FanOutRun fanOut) {
    return new Job(key, task, context, core, fanOut, null);
  }

  /** A keyed submission's run, with a {@link #handle} for its submitters. */
  static Job ofKey(
      Object key,
      Task<Object, Object> task,
      @Nullable Object context,
      PoolCore core,
      KeyedRuns keyed) {
    return new Job(key, task, context, core, null, keyed);
  }

  boolean isCompleted() {
    return completedFlag != 0;
  }

  /** {@link #isCompleted()}: the job is its own "stop trying" signal for the policies. */
  @Override
  public boolean getAsBoolean() {
    return isCompleted();
  }

  @Override
  public @Nullable Object call() throws Exception {
    try (ContextPropagator.Scope restored = core.propagator.restore(context)) {
      return task.call(key);
    }
  }

  /**
   * Completes this run with {@code result} unless it is completed already. Never call it while
   * holding the pool's lock.
   *
   * @param mayWait whether handing the result to a fan-out's channel may wait for its consumer
   * @return whether this call completed it
   */
  boolean complete(Result<Object, Object> result, boolean mayWait) {
    if (!COMPLETED.compareAndSet(this, 0, 1)) {
      return false;
    }
    this.result = result;
    core.recordOutcome(result);
    if (future != null) {
      future.complete(result);
    }
    if (fanOut != null) {
      fanOut.onResult(result, mayWait);
    }
    return true;
  }
}
