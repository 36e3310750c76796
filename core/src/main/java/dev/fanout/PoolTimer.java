package dev.fanout;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's timer for attempt timeouts and fan-out deadlines: one daemon platform thread,
 * started on first use and stopped when the pool closes.
 */
final class PoolTimer implements Policies.Scheduler {
  private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

  private final PoolCore core;
  private @Nullable ScheduledThreadPoolExecutor executor; // guarded by core.lock

  PoolTimer(PoolCore core) {
    this.core = core;
  }

  /** Runs {@code action} after the delay; {@code null} once the pool closed. */
  @Override
  public @Nullable ScheduledFuture<?> schedule(Runnable action, long delayNanos) {
    ScheduledThreadPoolExecutor timer;
    core.lock.lock();
    try {
      timer = executor;
      if (core.closed) {
        return null;
      }
      if (timer == null) {
        Thread.Builder.OfPlatform threads =
            Thread.ofPlatform().daemon().name("fanout-" + core.name + "-timer");
        timer = new ScheduledThreadPoolExecutor(1, threads.factory());
        timer.setRemoveOnCancelPolicy(true);
        timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor = timer;
      }
    } finally {
      core.lock.unlock();
    }
    return timer.schedule(
        () -> {
          try {
            action.run();
          } catch (RuntimeException e) {
            log.error("worker pool '{}': timer action failed", core.name, e);
          }
        },
        delayNanos,
        TimeUnit.NANOSECONDS);
  }

  /**
   * Under lock, as the pool is marked closed: takes the timer's thread away from this timer, for
   * {@link #stop} after unlocking.
   */
  @Nullable ScheduledThreadPoolExecutor detach() {
    ScheduledThreadPoolExecutor timer = executor;
    executor = null;
    return timer;
  }

  /**
   * Stops a timer {@link #detach() detached} from the pool and waits for its thread to end.
   *
   * @return whether the calling thread was interrupted while it waited
   */
  static boolean stop(@Nullable ScheduledThreadPoolExecutor timer) {
    if (timer == null) {
      return false;
    }
    timer.shutdownNow();
    try {
      timer.awaitTermination(10, TimeUnit.SECONDS);
      return false;
    } catch (InterruptedException e) {
      return true;
    }
  }
}
