package dev.fanout;

import dev.fanout.internal.NoProgress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.ConcurrentModificationException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link WorkerPool#fanOut} call: a job per key, where their results go (a channel, or slots
 * for the report), progress, the join that may end it early, and its deadline.
 */
final class FanOutRun {
  private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

  private final PoolCore core;
  private final Workers workers;
  private final @Nullable ResultChannel<Object, Object> channel;
  /**
   * Results in completion order when there is no channel ({@link WorkerPool#fanOutAndWait}): each
   * result takes the next slot, then counts as {@link #done}, so once all are done all slots are
   * set.
   */
  private final @Nullable Result<Object, Object>[] collected;

  private final AtomicInteger nextSlot = new AtomicInteger();
  private final CountDownLatch allDone = new CountDownLatch(1);
  private final FanOutOptions options;
  private final boolean reportsProgress;
  /**
   * Whether handing a result over only stores it: no channel that may wait for its consumer, no
   * progress listener and no fail-fast cancelling run in the worker's thread.
   */
  final boolean handsOverQuickly;
  private final int total;
  /** A job per key, in the order of the keys given. */
  private final Job[] jobs;
  /** The same jobs by key. */
  private final Map<Object, Job> byKey;
  final long startNanos = System.nanoTime();
  private volatile long endNanos;
  private final AtomicInteger done = new AtomicInteger();
  /** Failures so far; counted only for the progress listener. */
  private final AtomicInteger failures = new AtomicInteger();
  private final AtomicBoolean listenerFailed = new AtomicBoolean();
  /**
   * Held while counting a result and telling the progress listener, so that the listener sees
   * 1, 2, ... {@link #total} in order, one call at a time, and the last call happens before the
   * fan-out counts as finished.
   */
  private final ReentrantLock progressLock = new ReentrantLock();
  /** Whether the join is {@link FanOutJoin#all()}: no other result ends the fan-out early. */
  private final boolean joinsAll;
  /** Held while the join looks at a result. */
  private final ReentrantLock joinLock = new ReentrantLock();
  private int joinSuccesses; // guarded by joinLock
  private boolean joined; // guarded by joinLock
  private volatile @Nullable ScheduledFuture<?> deadlineTimer;

  /**
   * A fan-out with a job per key running {@code task}; nothing is enqueued yet.
   *
   * @throws NullPointerException if a key is null
   * @throws IllegalArgumentException if a key appears twice
   */
  @SuppressWarnings("unchecked")
  FanOutRun(
      PoolCore core,
      Workers workers,
      Collection<?> keys,
      Task<?, ?> task,
      FanOutOptions options,
      @Nullable ResultChannel<Object, Object> channel) {
    this.core = core;
    this.workers = workers;
    int total = keys.size();
    @Nullable Object context = core.propagator.capture();
    this.jobs = new Job[total];
    this.byKey = HashMap.newHashMap(total);
    int index = 0;
    for (Object key : keys) {
      if (key == null) {
        throw new NullPointerException("keys must not contain null (index " + index + ")");
      }
      if (index == total) {
        throw new ConcurrentModificationException("keys changed while the fan-out read them");
      }
      Job job = Job.ofFanOut(key, (Task<Object, Object>) task, context, core, this);
      if (byKey.putIfAbsent(key, job) != null) {
        throw new IllegalArgumentException(
            "keys must be distinct, but " + key + " appears twice (index " + index + ")");
      }
      jobs[index++] = job;
    }
    if (index != total) {
      throw new ConcurrentModificationException("keys changed while the fan-out read them");
    }
    this.channel = channel;
    this.options = options;
    this.reportsProgress = options.progress() != NoProgress.INSTANCE;
    this.joinsAll = options.join() == FanOutJoin.all();
    this.handsOverQuickly =
        channel == null
            && !reportsProgress
            && options.failureMode() != FailureMode.FAIL_FAST
            && joinsAll;
    this.total = total;
    @SuppressWarnings("unchecked")
    Result<Object, Object>[] slots = channel == null ? new Result[total] : new Result[0];
    this.collected = slots;
    if (total == 0) {
      endNanos = startNanos;
      allDone.countDown();
    }
  }

  /**
   * Enqueues the fan-out's jobs, starts workers and the deadline.
   *
   * @throws PoolClosedException if the pool is closing (nothing was enqueued)
   */
  FanOutRun start(PoolTimer timer) {
    List<Thread> started;
    core.lock.lock();
    try {
      core.ensureAccepting();
      if (total > 0) {
        core.fanOuts.add(this);
        for (Job job : jobs) {
          workers.enqueue(job);
        }
      }
      started = workers.spawn();
    } finally {
      core.lock.unlock();
    }
    Duration deadline = options.deadline();
    if (deadline != null && total > 0) {
      ScheduledFuture<?> scheduled =
          timer.schedule(
              () -> cancelAll("deadline of " + deadline + " passed"), deadline.toNanos());
      deadlineTimer = scheduled;
      if (scheduled != null && isFinished()) {
        scheduled.cancel(false);
      }
    }
    Workers.startAll(started);
    return this;
  }

  /**
   * Waits for every result (a fan-out without a channel) and returns the report.
   *
   * @throws InterruptedException if interrupted while waiting; the remaining keys are then
   *     cancelled
   */
  <K, V> FanOutReport<K, V> awaitReport() throws InterruptedException {
    try {
      allDone.await();
    } catch (InterruptedException e) {
      cancelAll("interrupted while waiting for the fan-out");
      throw e;
    }
    @SuppressWarnings("unchecked")
    List<Result<K, V>> results = (List<Result<K, V>>) (List<?>) Arrays.asList(collected);
    return FanOutReport.indexed(
        results,
        key -> {
          Job job = byKey.get(key);
          @SuppressWarnings("unchecked")
          Result<K, V> result = job == null ? null : (Result<K, V>) (Result<?, ?>) job.result;
          return result;
        },
        total,
        Duration.ofNanos(endNanos - startNanos));
  }

  /** This fan-out's job for {@code key}, or {@code null} if the key is not one of its keys. */
  @Nullable Job job(Object key) {
    return byKey.get(key);
  }

  private boolean isFinished() {
    return done.get() >= total;
  }

  /** Takes the result of one of its jobs, which is completed just now. */
  void onResult(Result<Object, Object> result, boolean mayWait) {
    if (channel != null) {
      channel.deliver(result, mayWait);
    } else {
      collected[nextSlot.getAndIncrement()] = result;
    }
    boolean isFailure = result instanceof Result.Failure;
    int doneSoFar;
    if (reportsProgress) {
      progressLock.lock();
      try {
        int failedSoFar = isFailure ? failures.incrementAndGet() : failures.get();
        doneSoFar = done.incrementAndGet();
        reportProgress(doneSoFar, failedSoFar);
      } finally {
        progressLock.unlock();
      }
    } else {
      doneSoFar = done.incrementAndGet();
    }
    if (isFailure && options.failureMode() == FailureMode.FAIL_FAST && !result.isCancelled()) {
      cancelAll("cancelled because key " + result.key() + " failed (fail-fast)");
    } else if (!joinsAll && !result.isCancelled() && joinEnds(result)) {
      cancelAll(
          "cancelled: the fan-out is done ("
              + options.join()
              + ", after key "
              + result.key()
              + ")");
    }
    if (doneSoFar == total) {
      endNanos = System.nanoTime();
      ScheduledFuture<?> deadline = deadlineTimer;
      if (deadline != null) {
        deadline.cancel(false);
      }
      core.lock.lock();
      try {
        core.fanOuts.remove(this);
      } finally {
        core.lock.unlock();
      }
      allDone.countDown();
    }
  }

  private void reportProgress(int doneSoFar, int failedSoFar) {
    try {
      options
          .progress()
          .onProgress(Progress.of(doneSoFar, total, failedSoFar, System.nanoTime() - startNanos));
    } catch (RuntimeException e) {
      if (listenerFailed.compareAndSet(false, true)) {
        log.warn(
            "worker pool '{}': progress listener failed (later failures at DEBUG)", core.name, e);
      } else {
        log.debug("worker pool '{}': progress listener failed", core.name, e);
      }
    }
  }

  /** Asks the join, one result at a time, whether the fan-out is done after {@code result}. */
  private boolean joinEnds(Result<Object, Object> result) {
    joinLock.lock();
    try {
      if (joined) {
        return false; // done already: the rest are being cancelled
      }
      if (result.isSuccess()) {
        joinSuccesses++;
      }
      try {
        joined = options.join().endsAfter(result, joinSuccesses);
      } catch (RuntimeException e) {
        log.warn(
            "worker pool '{}': the fan-out's join failed; ending the fan-out", core.name, e);
        joined = true;
      }
      return joined;
    } finally {
      joinLock.unlock();
    }
  }

  /** Cancels the fan-out's unfinished keys. */
  void cancelAll(String reason) {
    if (isFinished()) {
      return;
    }
    List<Job> unfinished = new ArrayList<>();
    for (Job job : jobs) {
      if (!job.isCompleted()) {
        unfinished.add(job);
      }
    }
    workers.cancelJobs(unfinished, reason);
  }
}
