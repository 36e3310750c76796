package dev.fanout;

import dev.fanout.internal.Cancelled;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryListener;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.Condition;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's queue and the worker threads that drain it: a worker is spawned when a job is
 * queued and fewer than {@code concurrency} exist, runs jobs until the queue is empty, then ends.
 * Also cancels jobs: out of the queue, completed as cancelled, interrupted if running.
 */
final class Workers {
  private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

  private final PoolCore core;
  private final ThreadFactory threadFactory;
  private final Policies<Object> policies;
  private final RetryListener retryCounter;
  private final Policies.Scheduler attemptTimer;
  private final Condition workersGone;
  // All below guarded by core.lock.
  private final ArrayDeque<Job> queue = new ArrayDeque<>();
  /** Each live worker by its thread. */
  private final Map<Thread, Worker> workers = new HashMap<>();
  /**
   * Workers that left {@link #workers} and may still be ending; {@link WorkerPool#close()} joins
   * them so that no thread of the pool outlives it. Pruned of ended threads whenever one is added.
   */
  private final List<Thread> exited = new ArrayList<>();
  private int queued;

  Workers(
      PoolCore core,
      ThreadFactory threadFactory,
      Policies<Object> policies,
      Policies.Scheduler attemptTimer) {
    this.core = core;
    this.threadFactory = threadFactory;
    this.policies = policies;
    this.attemptTimer = attemptTimer;
    this.workersGone = core.lock.newCondition();
    String name = core.name;
    this.retryCounter =
        event -> {
          core.retried.increment();
          if (log.isDebugEnabled()) {
            log.debug(
                "worker pool '{}': {}retry {}/{} after {}: {}",
                name,
                event.throttled() ? "throttled, " : "",
                event.retry(),
                event.maxRetries(),
                event.delay(),
                String.valueOf(event.error()));
          }
        };
  }

  /** Under lock: how many workers exist, each running one job. */
  int activeCount() {
    return workers.size();
  }

  /** Under lock: how many jobs wait in the queue. */
  int queuedCount() {
    return queued;
  }

  /** Under lock: whether {@code thread} is one of the live workers. */
  boolean isWorker(Thread thread) {
    return workers.containsKey(thread);
  }

  /** Under lock: the keys of the jobs the workers run now. */
  List<Object> runningKeys() {
    List<Object> keys = new ArrayList<>();
    for (Worker w : workers.values()) {
      Job job = w.job;
      if (job != null) {
        keys.add(job.key);
      }
    }
    return keys;
  }

  /** Under lock: the threads of the workers that ended so far, handed to the caller to join. */
  List<Thread> takeExited() {
    List<Thread> threads = new ArrayList<>(exited);
    exited.clear();
    return threads;
  }

  /** Under lock: puts {@code job} at the end of the queue. */
  void enqueue(Job job) {
    job.state = JobState.QUEUED;
    queue.addLast(job);
    queued++;
  }

  private @Nullable Job pollQueued() {
    for (Job job = queue.pollFirst(); job != null; job = queue.pollFirst()) {
      if (job.state == JobState.QUEUED) {
        queued--;
        return job;
      }
    }
    return null;
  }

  /** Under lock: creates workers for queued jobs, up to concurrency; start them after unlocking. */
  List<Thread> spawn() {
    List<Thread> created = List.of();
    long now = 0;
    while (workers.size() < core.config.concurrency() && queued > 0) {
      if (created.isEmpty()) {
        now = System.nanoTime();
      }
      Job job = Objects.requireNonNull(pollQueued());
      Worker worker = new Worker();
      Thread thread;
      try {
        thread = threadFactory.newThread(() -> workerLoop(worker, job));
        if (thread == null) {
          throw new IllegalStateException(
              "thread factory of pool '" + core.name + "' returned null");
        }
      } catch (RuntimeException | Error e) {
        // No thread for it: the job goes back to the head of the queue, for the next worker. The
        // workers made so far still start (the caller starts what this returns); with none made,
        // the caller learns why.
        queue.addFirst(job);
        queued++;
        if (created.isEmpty()) {
          throw e;
        }
        log.warn("worker pool '{}': could not start another worker: {}", core.name, e.toString());
        break;
      }
      worker.thread = thread;
      workers.put(thread, worker);
      markRunning(job, worker, now);
      if (created.isEmpty()) {
        created = new ArrayList<>();
      }
      created.add(thread);
    }
    return created;
  }

  /** Starts the threads {@link #spawn()} created; call it after unlocking. */
  static void startAll(List<Thread> threads) {
    for (Thread thread : threads) {
      thread.start();
    }
  }

  /** Under lock: {@code worker} takes {@code job}, which starts at clock reading {@code now}. */
  private static void markRunning(Job job, Worker worker, long now) {
    job.state = JobState.RUNNING;
    job.thread = worker.thread;
    job.startNanos = now;
    worker.job = job;
  }

  /**
   * Runs jobs until none is left for this worker. The worker reads the clock once per job: the
   * end of one job is the start of the next, as in between it only hands the result over and
   * takes the next job from the queue. Where handing over may take long (see
   * {@link FanOutRun#handsOverQuickly}), it reads the clock again.
   */
  private void workerLoop(Worker worker, Job first) {
    Job job = first;
    try {
      while (job != null) {
        long now = runJob(job);
        job = finishAndTakeNext(worker, job, true, now);
      }
    } catch (Error fatal) { // a VirtualMachineError rethrown by runJob, after reporting the task
      if (job != null) {
        finishAndTakeNext(worker, job, false, System.nanoTime());
      }
      throw fatal;
    }
  }

  /**
   * Runs {@code job} from its start (set when this worker took it) and completes it.
   *
   * @return a clock reading taken after the job was handed over: the next job's start
   */
  private long runJob(Job job) {
    if (job.isCompleted()) {
      return System.nanoTime(); // cancelled between being taken and this thread starting
    }
    long start = job.startNanos;
    Outcome<Object> outcome =
        policies.execute(job.key, job, retryCounter, job, attemptTimer);
    long end = System.nanoTime();
    Duration elapsed = Duration.ofNanos(end - start);
    Result<Object, Object> result =
        switch (outcome) {
          case Outcome.Success<Object> s ->
              new Result.Success<>(job.key, s.value(), s.attempts(), elapsed);
          case Outcome.Failure<Object> f ->
              new Result.Failure<>(job.key, f.error(), f.attempts(), elapsed);
        };
    if (outcome instanceof Outcome.Failure<Object> f
        && f.error() instanceof VirtualMachineError fatal
        && !(fatal instanceof StackOverflowError)) {
      job.complete(result, false);
      throw fatal; // the JVM is in trouble: this worker ends, a fresh one takes over the queue
    }
    job.complete(result, true);
    return job.fanOut != null && job.fanOut.handsOverQuickly ? end : System.nanoTime();
  }

  /**
   * Ends {@code done} and, with {@code takeNext}, returns the next queued job for this worker;
   * otherwise (or if the queue is empty) retires this worker, starting a replacement if this
   * worker is dying with work still queued. The next job starts at clock reading {@code now}.
   */
  private @Nullable Job finishAndTakeNext(
      Worker worker, Job done, boolean takeNext, long now) {
    Thread self = Thread.currentThread();
    List<Thread> replacements = List.of();
    core.lockForAMoment();
    try {
      done.state = JobState.FINISHED;
      done.thread = null;
      KeyedRuns keyed = done.keyed;
      if (keyed != null) {
        keyed.finished(done);
      }
      // Any interrupt aimed at `done` has been delivered by now (interrupts happen under lock).
      Thread.interrupted();
      Job next = takeNext ? pollQueued() : null;
      if (next != null) {
        markRunning(next, worker, now);
        return next;
      }
      workers.remove(self);
      exited.removeIf(thread -> !thread.isAlive());
      exited.add(self);
      if (!takeNext) {
        replacements = spawn();
      }
      if (workers.isEmpty()) {
        workersGone.signalAll();
      }
    } finally {
      core.lock.unlock();
    }
    startAll(replacements);
    return null;
  }

  /**
   * Waits up to {@code nanos} until no worker is left.
   *
   * @return whether none is left
   */
  boolean awaitGone(long nanos) throws InterruptedException {
    core.lock.lock();
    try {
      while (!workers.isEmpty()) {
        if (nanos <= 0) {
          return false;
        }
        nanos = workersGone.awaitNanos(nanos);
      }
      return true;
    } finally {
      core.lock.unlock();
    }
  }

  /**
   * Cancels every queued and running job and every pending re-run of a running one.
   *
   * @return how many jobs were cancelled
   */
  int cancelAll(String reason) {
    List<Job> targets = new ArrayList<>();
    core.lock.lock();
    try {
      for (Worker worker : workers.values()) {
        Job job = Objects.requireNonNull(worker.job);
        targets.add(job);
        if (job.rerun != null) {
          targets.add(job.rerun);
          job.rerun = null;
        }
      }
      for (Job job : queue) {
        if (job.state == JobState.QUEUED) {
          targets.add(job);
        }
      }
    } finally {
      core.lock.unlock();
    }
    return cancelJobs(targets, reason);
  }

  /**
   * Cancels the given jobs: queued ones leave the queue, then every one not yet completed is
   * completed as cancelled, then the running ones are interrupted. Never call it while holding
   * the lock.
   *
   * @return how many jobs this call completed as cancelled
   */
  int cancelJobs(Collection<Job> targets, String reason) {
    if (targets.isEmpty()) {
      return 0;
    }
    List<Job> wasRunning = new ArrayList<>();
    core.lock.lock();
    try {
      for (Job job : targets) {
        if (job.state == JobState.QUEUED) {
          job.state = JobState.FINISHED;
          queued--;
          KeyedRuns keyed = job.keyed;
          if (keyed != null) {
            keyed.dropped(job);
          }
        } else if (job.state == JobState.PENDING) {
          job.state = JobState.FINISHED;
        } else if (job.state == JobState.RUNNING) {
          wasRunning.add(job);
        }
      }
    } finally {
      core.lock.unlock();
    }
    int cancelled = 0;
    for (Job job : targets) {
      Duration elapsed =
          Duration.ofNanos(
              System.nanoTime() - (job.startNanos != 0 ? job.startNanos : job.createdNanos));
      int attempts = job.startNanos != 0 ? 1 : 0;
      if (job.complete(
          new Result.Failure<>(job.key, new Cancelled(reason), attempts, elapsed), false)) {
        cancelled++;
      }
    }
    interrupt(wasRunning);
    return cancelled;
  }

  private void interrupt(List<Job> jobs) {
    core.lock.lock();
    try {
      for (Job job : jobs) {
        Thread thread = job.thread;
        if (job.state == JobState.RUNNING && thread != null) {
          thread.interrupt();
        }
      }
    } finally {
      core.lock.unlock();
    }
  }

  /**
   * One worker thread and the job it runs; a worker always runs exactly one. Kept apart from the
   * worker map so that taking the next job changes a field, not the map.
   */
  private static final class Worker {
    @Nullable Thread thread; // set once, under lock, before the thread starts
    @Nullable Job job; // guarded by lock
  }
}
