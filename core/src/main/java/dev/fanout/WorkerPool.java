package dev.fanout;

import dev.fanout.context.ContextPropagator;
import dev.fanout.internal.Cancelled;
import dev.fanout.internal.Names;
import dev.fanout.internal.NoProgress;
import dev.fanout.internal.PoolMeters;
import dev.fanout.rate.RateGate;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryListener;
import dev.fanout.retry.RetryPolicy;
import dev.fanout.time.Ticker;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.ConcurrentModificationException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one executor fan-out needs: runs one {@link Task} per key, at most
 * {@link ParallelConfig#maxWorkers() maxWorkers} at once, on virtual threads by default, and
 * reports every key's {@link Result} exactly once. Where an {@link
 * java.util.concurrent.ExecutorService} gives you futures to collect and errors to route by hand,
 * a pool gives you a {@link ResultChannel} or a {@link FanOutReport}.
 *
 * {@snippet :
 * try (WorkerPool pool = WorkerPool.create(ParallelConfig.defaults())) {
 *   FanOutReport<String, List<String>> report =
 *       pool.fanOutAndWait(customers, customer -> recipientsOf(customer));
 *   log.info(report.summary()); // 29 succeeded, 1 failed of 30 in 2.1 s
 * }
 * }
 *
 * <h2>Two ways in</h2>
 *
 * <ul>
 *   <li>{@link #fanOut(Collection, Task) fanOut(keys, task)} runs the task for each key of a
 *       collection and returns a channel of their results in completion order;
 *       {@link #fanOutAndWait(Collection, Task) fanOutAndWait} waits and returns the report. The
 *       keys of one fan-out must be distinct; they are its own and are not shared with other
 *       fan-outs.
 *   <li>{@link #submit(Object, Task, WhileRunning) submit(key, task, whileRunning)} runs a task
 *       for one key with the Kubernetes workqueue guarantees: one key never runs twice at once; a
 *       key submitted while queued is coalesced; while running, the submission either joins the
 *       run or marks the key dirty for one re-run afterwards. Keys are compared with
 *       {@code equals} across all submissions to this pool, so keep one task type per key.
 * </ul>
 *
 * <h2>What runs inside what</h2>
 *
 * <pre>
 * fan-out deadline                      ParallelConfig.timeout: cancels what is unfinished
 *  └ queue: wait for a free worker       at most maxWorkers run
 *     └ the pool's {@link Policies}        Builder.policies, in their order; by default
 *        └ retry policy                  Builder.retryPolicy, default from maxRetries
 *           └ rate gate (each attempt)   Builder.rateGate / rateGates(key -> gate),
 *                                        default RateGate.spacing(rateSpacing)
 *              └ attempt timeout         ParallelConfig.taskTimeout: interrupts the attempt,
 *                 └ context restored     Builder.contextPropagator (the submitter's MDC)
 *                    └ task              which fails with TaskTimeoutException (retryable)
 * </pre>
 *
 * A worker holds its slot while it waits for the gate or sleeps between attempts, so {@code
 * maxWorkers} bounds concurrent calls and the gate bounds their rate, retries included. Cancellation — {@link #cancel(Object)}, fail-fast
 * ({@link FailureMode#FAIL_FAST}), the deadline, a closed result channel, or a shutdown out of
 * patience — reports the key at once as a {@link Result.Failure} with a
 * {@link java.util.concurrent.CancellationException}, drops it if queued and interrupts it if
 * running (a retry wait ends there). A worker stays occupied until its task actually returns, so
 * {@code maxWorkers} is a true bound on running tasks. {@link Result#attempts()} counts the
 * attempts the retry policy made.
 *
 * <h2>Threads and memory</h2>
 *
 * The pool starts a worker thread only when a task is queued and fewer than {@code maxWorkers}
 * workers exist; a worker runs queued tasks until the queue is empty and then ends. So an idle
 * pool holds no thread, and a million queued keys cost a million small queue entries, not a
 * million threads.
 *
 * <h2>Shutdown</h2>
 *
 * {@link #close()} stops accepting work, lets queued and running tasks finish for up to
 * {@link ParallelConfig#shutdownTimeout()}, then reports what is left as cancelled and interrupts
 * what still runs, and gives the interrupted tasks a grace ({@link Builder#interruptGrace}, 5 s
 * unless set) to end. A task that ignores interruption cannot be stopped by any pool: after the
 * grace {@code close()} returns anyway and reports it: an ERROR log naming the keys, and
 * {@link #stillRunning()}, which lists them until they end. So {@code close()} returns within
 * {@code shutdownTimeout + interruptGrace}. Accepted work is never dropped silently: each
 * accepted key gets a result (a task still running after close is already reported cancelled).
 *
 * <p>Memory consistency: actions in a thread before it submits a task happen-before the task
 * runs; the task's actions happen-before its result is received from the channel or handle.
 */
public final class WorkerPool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);
  private static final AtomicInteger POOL_IDS = new AtomicInteger();

  private final String name;
  private final ParallelConfig config;
  private final ThreadFactory threadFactory;
  private final @Nullable PoolMeters meters;
  private final Policies<Object> policies;
  private final ContextPropagator propagator;
  private final RetryListener retryCounter;
  private final Policies.Scheduler attemptTimer = this::schedule;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition workersGone = lock.newCondition();
  // All below guarded by lock.
  private final ArrayDeque<Job> queue = new ArrayDeque<>();
  private final Map<Object, Job> keyed = new HashMap<>();
  private final Set<FanOut> fanOuts = new HashSet<>();
  /** Each live worker by its thread. */
  private final Map<Thread, Worker> workers = new HashMap<>();
  /**
   * Workers that left {@link #workers} and may still be ending; {@link #close()} joins them so
   * that no thread of the pool outlives it. Pruned of ended threads whenever one is added.
   */
  private final List<Thread> exited = new ArrayList<>();
  private int queued;
  private boolean accepting = true;
  private boolean closed;
  private @Nullable ScheduledThreadPoolExecutor timer;
  private final Duration interruptGrace;

  private final LongAdder completed = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder retried = new LongAdder();

  private WorkerPool(Builder builder) {
    this.config = builder.config;
    this.interruptGrace = builder.interruptGrace;
    this.name = builder.name != null ? builder.name : "pool-" + POOL_IDS.incrementAndGet();
    this.threadFactory =
        builder.threadFactory != null
            ? builder.threadFactory
            : Thread.ofVirtual().name("fanout-" + name + "-", 0).factory();
    this.meters =
        builder.registry == null ? null : new PoolMeters(builder.registry, name, new Meters());
    this.policies = builder.policies(name);
    this.propagator = builder.propagator;
    this.retryCounter =
        event -> {
          retried.increment();
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

  /** A pool with the given config, virtual threads and no metrics. */
  public static WorkerPool create(ParallelConfig config) {
    return builder(config).build();
  }

  /** A builder for a pool with the given config. */
  public static Builder builder(ParallelConfig config) {
    return new Builder(config);
  }

  /** The pool's name, used in thread names, logs and the {@code pool} meter tag. */
  public String name() {
    return name;
  }

  /** The config the pool was made with. */
  public ParallelConfig config() {
    return config;
  }

  // ---------------------------------------------------------------------------------------------
  // Fan-out

  /**
   * Runs {@code task} once for each key and returns the channel their results arrive on, in
   * completion order. Failure mode and deadline come from the pool's config.
   *
   * @throws NullPointerException if {@code keys} or {@code task} is null, or a key is null
   * @throws IllegalArgumentException if a key appears twice
   * @throws PoolClosedException if the pool is closing (nothing was accepted)
   */
  public <K, V> ResultChannel<K, V> fanOut(
      Collection<? extends K> keys, Task<? super K, ? extends V> task) {
    return fanOut(keys, task, FanOutOptions.of(config));
  }

  /**
   * As {@link #fanOut(Collection, Task)}, with this fan-out's own options.
   *
   * @throws NullPointerException if an argument or a key is null
   * @throws IllegalArgumentException if a key appears twice
   * @throws PoolClosedException if the pool is closing (nothing was accepted)
   */
  public <K, V> ResultChannel<K, V> fanOut(
      Collection<? extends K> keys, Task<? super K, ? extends V> task, FanOutOptions options) {
    Objects.requireNonNull(keys, "keys");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(options, "options");
    int size = keys.size();
    ResultChannel<K, V> channel = ResultChannel.create(size, options.capacityFor(size));
    @SuppressWarnings("unchecked")
    ResultChannel<Object, Object> untyped = (ResultChannel<Object, Object>) channel;
    FanOut fanOut = start(new FanOut(keys, task, options, untyped));
    channel.onClose(() -> fanOut.cancelAll("result channel closed"));
    return channel;
  }

  /** Enqueues the fan-out's jobs, starts workers and the deadline. */
  private FanOut start(FanOut fanOut) {
    int n = fanOut.total;
    Job[] jobs = fanOut.jobs;
    FanOutOptions options = fanOut.options;
    List<Thread> started;
    lock.lock();
    try {
      ensureAccepting();
      if (n > 0) {
        fanOuts.add(fanOut);
        for (Job job : jobs) {
          enqueue(job);
        }
      }
      started = spawnWorkers();
    } finally {
      lock.unlock();
    }
    Duration deadline = options.deadline();
    if (deadline != null && n > 0) {
      ScheduledFuture<?> timer =
          schedule(
              () -> fanOut.cancelAll("deadline of " + deadline + " passed"), deadline.toNanos());
      fanOut.deadlineTimer = timer;
      if (timer != null && fanOut.isFinished()) {
        timer.cancel(false);
      }
    }
    startAll(started);
    return fanOut;
  }

  /**
   * Runs {@code task} for each key, waits for every result and returns the report.
   *
   * @throws InterruptedException if interrupted while waiting; the fan-out's remaining keys are
   *     then cancelled
   */
  public <K, V> FanOutReport<K, V> fanOutAndWait(
      Collection<? extends K> keys, Task<? super K, ? extends V> task)
      throws InterruptedException {
    return fanOutAndWait(keys, task, FanOutOptions.of(config));
  }

  /** As {@link #fanOutAndWait(Collection, Task)}, reporting progress to {@code progress}. */
  public <K, V> FanOutReport<K, V> fanOutAndWait(
      Collection<? extends K> keys, Task<? super K, ? extends V> task, ProgressListener progress)
      throws InterruptedException {
    return fanOutAndWait(keys, task, FanOutOptions.of(config).withProgress(progress));
  }

  /** As {@link #fanOutAndWait(Collection, Task)}, with this fan-out's own options. */
  public <K, V> FanOutReport<K, V> fanOutAndWait(
      Collection<? extends K> keys, Task<? super K, ? extends V> task, FanOutOptions options)
      throws InterruptedException {
    Objects.requireNonNull(keys, "keys");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(options, "options");
    FanOut fanOut = start(new FanOut(keys, task, options, null));
    try {
      fanOut.allDone.await();
    } catch (InterruptedException e) {
      fanOut.cancelAll("interrupted while waiting for the fan-out");
      throw e;
    }
    @SuppressWarnings("unchecked")
    List<Result<K, V>> results = (List<Result<K, V>>) (List<?>) Arrays.asList(fanOut.collected);
    Map<Object, Job> byKey = fanOut.byKey;
    return FanOutReport.indexed(
        results,
        key -> {
          Job job = byKey.get(key);
          @SuppressWarnings("unchecked")
          Result<K, V> result = job == null ? null : (Result<K, V>) (Result<?, ?>) job.result;
          return result;
        },
        fanOut.total,
        Duration.ofNanos(fanOut.endNanos - fanOut.startNanos));
  }

  // ---------------------------------------------------------------------------------------------
  // Keyed submission

  /**
   * Submits a task for one key, joining the run if the key is already running. The same as
   * {@code submit(key, task, WhileRunning.JOIN)}.
   */
  public <K, V> TaskHandle<K, V> submit(K key, Task<? super K, ? extends V> task) {
    return submit(key, task, WhileRunning.JOIN);
  }

  /**
   * Submits a task for one key with workqueue semantics: if the key is queued, the submission is
   * coalesced into the queued entry (which keeps its place and runs the newest task) and the
   * caller gets its handle; if the key is running, {@code whileRunning} decides between joining
   * the run and one re-run after it. A key whose run was cancelled but whose task has not
   * returned yet is treated as running with {@link WhileRunning#RERUN}, so new work is never
   * swallowed by a cancelled run.
   *
   * @throws NullPointerException if an argument is null
   * @throws PoolClosedException if the pool is closing (nothing was accepted)
   */
  @SuppressWarnings("unchecked")
  public <K, V> TaskHandle<K, V> submit(
      K key, Task<? super K, ? extends V> task, WhileRunning whileRunning) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(whileRunning, "whileRunning");
    Task<Object, Object> untypedTask = (Task<Object, Object>) task;
    @Nullable Object context = propagator.capture();
    Job handleOwner;
    List<Thread> started;
    lock.lock();
    try {
      ensureAccepting();
      Job current = keyed.get(key);
      if (current == null) {
        handleOwner = keyedJob(key, untypedTask, context);
        keyed.put(key, handleOwner);
        enqueue(handleOwner);
      } else if (current.state == Job.QUEUED) {
        current.task = untypedTask;
        current.context = context;
        handleOwner = current;
      } else if (whileRunning == WhileRunning.JOIN && !current.isCompleted()) {
        handleOwner = current;
      } else {
        if (current.rerun == null) {
          current.rerun = keyedJob(key, untypedTask, context);
          current.rerun.state = Job.PENDING;
        } else {
          current.rerun.task = untypedTask;
          current.rerun.context = context;
        }
        handleOwner = current.rerun;
      }
      started = spawnWorkers();
    } finally {
      lock.unlock();
    }
    startAll(started);
    return (TaskHandle<K, V>) Objects.requireNonNull(handleOwner.handle);
  }

  private Job keyedJob(Object key, Task<Object, Object> task, @Nullable Object context) {
    return new Job(key, task, context, null, this);
  }

  /**
   * Cancels a key: a queued run is dropped, a running one is interrupted, a pending re-run is
   * dropped; each is reported as a {@link Result.Failure} with a
   * {@link java.util.concurrent.CancellationException}. Applies to keyed submissions and to every
   * running fan-out that has this key.
   *
   * @return whether anything was cancelled
   */
  public boolean cancel(Object key) {
    return cancel(key, true);
  }

  /** Cancels a key's keyed submissions and, if {@code fanOutsToo}, its fan-out runs. */
  boolean cancel(Object key, boolean fanOutsToo) {
    Objects.requireNonNull(key, "key");
    List<Job> targets = new ArrayList<>();
    lock.lock();
    try {
      Job current = keyed.get(key);
      if (current != null) {
        targets.add(current);
        if (current.rerun != null) {
          targets.add(current.rerun);
          current.rerun = null;
        }
      }
      for (FanOut fanOut : fanOutsToo ? fanOuts : Set.<FanOut>of()) {
        Job job = fanOut.byKey.get(key);
        if (job != null) {
          targets.add(job);
        }
      }
    } finally {
      lock.unlock();
    }
    return cancelJobs(targets, "cancelled by cancel(" + key + ")") > 0;
  }

  /**
   * Cancels everything the pool holds now — every queued and running task, keyed or from a
   * fan-out, and every pending re-run — as {@link #cancel(Object)} does for one key, without
   * closing the pool: work submitted afterwards runs as usual. For a watcher that lost its
   * leadership, say.
   *
   * @param reason why, for the {@link java.util.concurrent.CancellationException}'s message
   * @return how many tasks were cancelled
   */
  public int cancelAll(String reason) {
    Objects.requireNonNull(reason, "reason");
    List<Job> targets = new ArrayList<>();
    lock.lock();
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
        if (job.state == Job.QUEUED) {
          targets.add(job);
        }
      }
    } finally {
      lock.unlock();
    }
    return cancelJobs(targets, reason);
  }

  // ---------------------------------------------------------------------------------------------
  // Status and shutdown

  /** A snapshot of the pool's counters. */
  public PoolStatus status() {
    lock.lock();
    try {
      return new PoolStatus(
          workers.size(), queued, completed.sum(), failed.sum(), retried.sum());
    } finally {
      lock.unlock();
    }
  }

  /** Whether {@link #close()} has begun. */
  public boolean isClosed() {
    lock.lock();
    try {
      return !accepting;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Keys whose tasks are running now: after {@link #close()}, the tasks that ignored interruption
   * and outlived the grace (their keys were already reported cancelled); empty once they end.
   */
  public List<Object> stillRunning() {
    lock.lock();
    try {
      List<Object> keys = new ArrayList<>();
      for (Worker w : workers.values()) {
        Job job = w.job;
        if (job != null) {
          keys.add(job.key);
        }
      }
      return List.copyOf(keys);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops accepting work, waits up to the shutdown timeout for queued and running tasks to end,
   * then cancels what is left (queued keys are reported cancelled, running ones interrupted and
   * reported cancelled), waits up to the interrupt grace for the interrupted tasks to end, and
   * waits for the threads of the ended tasks. Tasks that ignore interruption and outlive the grace
   * are logged at ERROR with their keys and listed by {@link #stillRunning()}; their threads end
   * when they return. So this returns within {@code shutdownTimeout + interruptGrace}, plus a
   * moment to stop the pool's timer. Idempotent. If the calling thread is interrupted while it
   * waits, the pool skips to the cancelling step and the thread keeps its interrupt status.
   *
   * @throws IllegalStateException if called from one of the pool's own tasks
   */
  @Override
  public void close() {
    lock.lock();
    try {
      if (workers.containsKey(Thread.currentThread())) {
        throw new IllegalStateException("a task must not close its own pool '" + name + "'");
      }
      if (closed) {
        return;
      }
      accepting = false;
    } finally {
      lock.unlock();
    }
    boolean interrupted = false;
    boolean drained;
    try {
      drained = awaitWorkersGone(config.shutdownTimeout().toNanos());
    } catch (InterruptedException e) {
      interrupted = true;
      drained = false;
    }
    if (!drained) {
      int cancelled =
          cancelAll("worker pool '" + name + "' closed before the task finished");
      log.warn(
          "worker pool '{}' did not finish within {}: cancelled {} unfinished task(s)",
          name,
          config.shutdownTimeout(),
          cancelled);
      try {
        // Interrupted tasks get the grace to end; one that ignores interrupts is reported.
        if (!awaitWorkersGone(interruptGrace.toNanos())) {
          List<Object> keys = stillRunning();
          log.error(
              "worker pool '{}': {} task(s) ignore interruption and still run {} after the"
                  + " interrupt; close() returns without them (they were reported cancelled): {}",
              name,
              keys.size(),
              interruptGrace,
              keys.size() <= 20 ? keys : keys.subList(0, 20) + " ...");
        }
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    List<Thread> toJoin;
    ScheduledThreadPoolExecutor timerToStop;
    lock.lock();
    try {
      closed = true;
      toJoin = new ArrayList<>(exited);
      exited.clear();
      timerToStop = timer;
      timer = null;
    } finally {
      lock.unlock();
    }
    for (Thread thread : toJoin) {
      if (thread == Thread.currentThread()) {
        continue;
      }
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (timerToStop != null) {
      timerToStop.shutdownNow();
      try {
        timerToStop.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (meters != null) {
      meters.remove();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    log.debug("worker pool '{}' closed: {}", name, status());
  }

  private boolean awaitWorkersGone(long nanos) throws InterruptedException {
    lock.lock();
    try {
      while (!workers.isEmpty()) {
        if (nanos <= 0) {
          return false;
        }
        nanos = workersGone.awaitNanos(nanos);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    return "WorkerPool[" + name + ", " + status() + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // Engine. Rules: state changes happen under `lock`; results are completed outside it (delivery
  // may wait for a slow consumer); threads of the pool are interrupted only under `lock` and only
  // while they run the job being cancelled, so an interrupt never leaks into the next task.

  private void ensureAccepting() {
    if (!accepting) {
      throw new PoolClosedException(name);
    }
  }

  private void enqueue(Job job) {
    job.state = Job.QUEUED;
    queue.addLast(job);
    queued++;
  }

  private @Nullable Job pollQueued() {
    for (Job job = queue.pollFirst(); job != null; job = queue.pollFirst()) {
      if (job.state == Job.QUEUED) {
        queued--;
        return job;
      }
    }
    return null;
  }

  /** Under lock: creates workers for queued jobs, up to maxWorkers; start them after unlocking. */
  private List<Thread> spawnWorkers() {
    List<Thread> created = List.of();
    long now = 0;
    while (workers.size() < config.maxWorkers() && queued > 0) {
      if (created.isEmpty()) {
        now = System.nanoTime();
      }
      Job job = Objects.requireNonNull(pollQueued());
      Worker worker = new Worker();
      Thread thread = threadFactory.newThread(() -> workerLoop(worker, job));
      if (thread == null) {
        throw new IllegalStateException("thread factory of pool '" + name + "' returned null");
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

  private static void startAll(List<Thread> threads) {
    for (Thread thread : threads) {
      thread.start();
    }
  }

  /** Under lock: {@code worker} takes {@code job}, which starts at clock reading {@code now}. */
  private void markRunning(Job job, Worker worker, long now) {
    job.state = Job.RUNNING;
    job.thread = worker.thread;
    job.startNanos = now;
    worker.job = job;
  }

  /**
   * Runs jobs until none is left for this worker. The worker reads the clock once per job: the
   * end of one job is the start of the next, as in between it only hands the result over and
   * takes the next job from the queue. Where handing over may take long (see
   * {@link FanOut#handsOverQuickly}), it reads the clock again.
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
        policies.execute(job.key, job, retryCounter, job::isCompleted, attemptTimer);
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
    lock.lock();
    try {
      done.state = Job.FINISHED;
      done.thread = null;
      if (done.keyedPool != null && keyed.get(done.key) == done) {
        Job rerun = done.rerun;
        done.rerun = null;
        if (rerun != null && !rerun.isCompleted()) {
          keyed.put(done.key, rerun);
          enqueue(rerun);
        } else {
          keyed.remove(done.key);
        }
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
        replacements = spawnWorkers();
      }
      if (workers.isEmpty()) {
        workersGone.signalAll();
      }
    } finally {
      lock.unlock();
    }
    startAll(replacements);
    return null;
  }

  /**
   * Cancels the given jobs: queued ones leave the queue, then every one not yet completed is
   * completed as cancelled, then the running ones are interrupted.
   *
   * @return how many jobs this call completed as cancelled
   */
  private int cancelJobs(Collection<Job> targets, String reason) {
    if (targets.isEmpty()) {
      return 0;
    }
    List<Job> wasRunning = new ArrayList<>();
    lock.lock();
    try {
      for (Job job : targets) {
        if (job.state == Job.QUEUED) {
          job.state = Job.FINISHED;
          queued--;
          if (job.keyedPool != null && keyed.get(job.key) == job) {
            keyed.remove(job.key);
          }
        } else if (job.state == Job.PENDING) {
          job.state = Job.FINISHED;
        } else if (job.state == Job.RUNNING) {
          wasRunning.add(job);
        }
      }
    } finally {
      lock.unlock();
    }
    int cancelled = 0;
    for (Job job : targets) {
      Duration elapsed =
          Duration.ofNanos(System.nanoTime() - (job.startNanos != 0 ? job.startNanos : job.createdNanos));
      int attempts = job.startNanos != 0 ? 1 : 0;
      if (job.complete(new Result.Failure<>(job.key, new Cancelled(reason), attempts, elapsed), false)) {
        cancelled++;
      }
    }
    interrupt(wasRunning);
    return cancelled;
  }

  private void interrupt(List<Job> jobs) {
    lock.lock();
    try {
      for (Job job : jobs) {
        Thread thread = job.thread;
        if (job.state == Job.RUNNING && thread != null) {
          thread.interrupt();
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** Runs {@code action} after the delay on the pool's timer; {@code null} once the pool closed. */
  private @Nullable ScheduledFuture<?> schedule(Runnable action, long delayNanos) {
    ScheduledThreadPoolExecutor executor;
    lock.lock();
    try {
      executor = timer;
      if (closed) {
        return null;
      }
      if (executor == null) {
        Thread.Builder.OfPlatform threads =
            Thread.ofPlatform().daemon().name("fanout-" + name + "-timer");
        executor = new ScheduledThreadPoolExecutor(1, threads.factory());
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        timer = executor;
      }
    } finally {
      lock.unlock();
    }
    return executor.schedule(
        () -> {
          try {
            action.run();
          } catch (RuntimeException e) {
            log.error("worker pool '{}': timer action failed", name, e);
          }
        },
        delayNanos,
        TimeUnit.NANOSECONDS);
  }

  private void recordOutcome(Result<Object, Object> result) {
    boolean success = result instanceof Result.Success;
    (success ? completed : failed).increment();
    if (meters != null) {
      meters.recordTask(result.elapsed().toNanos(), success);
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

  /** One run of one key; calling it calls the task once (the pool's policies go around it). */
  private final class Job implements Callable<@Nullable Object> {
    static final int QUEUED = 0;
    static final int RUNNING = 1;
    static final int FINISHED = 2;
    /** A re-run waiting for the current run of its key to end; not in the queue yet. */
    static final int PENDING = 3;

    private static final VarHandle COMPLETED;

    static {
      try {
        COMPLETED =
            MethodHandles.lookup().findVarHandle(Job.class, "completedFlag", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final Object key;
    final @Nullable FanOut fanOut;
    final @Nullable WorkerPool keyedPool;
    final @Nullable CompletableFuture<Result<Object, Object>> future;
    final @Nullable TaskHandle<Object, Object> handle;
    /** When the job was made: its fan-out's start, so a fan-out reads the clock once. */
    final long createdNanos;
    /** A hash code that costs nothing to compute (the identity hash does, once per object). */
    private final int hash = ThreadLocalRandom.current().nextInt();
    volatile Task<Object, Object> task; // replaced by coalescing while queued (under lock)
    /** The submitter's context, restored around each attempt; replaced with the task. */
    volatile @Nullable Object context;
    /** The result, set once by whoever completes the job, before its fan-out counts it done. */
    @Nullable Result<Object, Object> result;
    /** When a worker took the job; 0 until then. Set under lock. */
    long startNanos;
    int state = QUEUED; // guarded by lock
    @Nullable Thread thread; // guarded by lock; set while RUNNING
    @Nullable Job rerun; // guarded by lock
    @SuppressWarnings("unused") // accessed through COMPLETED
    private volatile int completedFlag;

    Job(
        Object key,
        Task<Object, Object> task,
        @Nullable Object context,
        @Nullable FanOut fanOut,
        @Nullable WorkerPool keyedPool) {
      this.key = key;
      this.task = task;
      this.context = context;
      this.fanOut = fanOut;
      this.keyedPool = keyedPool;
      this.createdNanos = fanOut != null ? fanOut.startNanos : System.nanoTime();
      if (keyedPool != null) {
        this.future = new CompletableFuture<>();
        this.handle = new TaskHandle<>(key, future, keyedPool);
      } else {
        this.future = null;
        this.handle = null;
      }
    }

    boolean isCompleted() {
      return completedFlag != 0;
    }

    @Override
    public @Nullable Object call() throws Exception {
      try (ContextPropagator.Scope restored = propagator.restore(context)) {
        return task.call(key);
      }
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(@Nullable Object other) {
      return this == other;
    }

    /**
     * Completes this run with {@code result} unless it is completed already. Never call it while
     * holding the pool's lock.
     */
    boolean complete(Result<Object, Object> result, boolean mayWait) {
      if (!COMPLETED.compareAndSet(this, 0, 1)) {
        return false;
      }
      this.result = result;
      recordOutcome(result);
      if (future != null) {
        future.complete(result);
      }
      if (fanOut != null) {
        fanOut.onResult(result, mayWait);
      }
      return true;
    }
  }

  /** One {@link #fanOut} call: its jobs, where results go, and its deadline. */
  private final class FanOut {
    final @Nullable ResultChannel<Object, Object> channel;
    /**
     * Results in completion order when there is no channel ({@link #fanOutAndWait}): each result
     * takes the next slot, then counts as {@link #done}, so once all are done all slots are set.
     */
    final @Nullable Result<Object, Object>[] collected;

    final AtomicInteger nextSlot = new AtomicInteger();
    final CountDownLatch allDone = new CountDownLatch(1);
    final FanOutOptions options;
    final boolean reportsProgress;
    /**
     * Whether handing a result over only stores it: no channel that may wait for its consumer, no
     * progress listener and no fail-fast cancelling run in the worker's thread.
     */
    final boolean handsOverQuickly;
    final int total;
    /** A job per key, in the order of the keys given. */
    final Job[] jobs;
    /** The same jobs by key. */
    final Map<Object, Job> byKey;
    final long startNanos = System.nanoTime();
    volatile long endNanos;
    final AtomicInteger done = new AtomicInteger();
    /** Failures so far; counted only for the progress listener. */
    final AtomicInteger failures = new AtomicInteger();
    final AtomicBoolean listenerFailed = new AtomicBoolean();
    /**
     * Held while counting a result and telling the progress listener, so that the listener sees
     * 1, 2, ... {@link #total} in order, one call at a time, and the last call happens before the
     * fan-out counts as finished.
     */
    final ReentrantLock progressLock = new ReentrantLock();
    /** Whether the join is {@link FanOutJoin#all()}: no other result ends the fan-out early. */
    final boolean joinsAll;
    /** Held while the join looks at a result. */
    private final ReentrantLock joinLock = new ReentrantLock();
    private int joinSuccesses; // guarded by joinLock
    private boolean joined; // guarded by joinLock
    volatile @Nullable ScheduledFuture<?> deadlineTimer;

    /**
     * A fan-out with a job per key running {@code task}; nothing is enqueued yet.
     *
     * @throws NullPointerException if a key is null
     * @throws IllegalArgumentException if a key appears twice
     */
    @SuppressWarnings("unchecked")
    FanOut(
        Collection<?> keys,
        Task<?, ?> task,
        FanOutOptions options,
        @Nullable ResultChannel<Object, Object> channel) {
      int total = keys.size();
      @Nullable Object context = propagator.capture();
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
        Job job = new Job(key, (Task<Object, Object>) task, context, this, null);
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

    boolean isFinished() {
      return done.get() >= total;
    }

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
        cancelAll("cancelled: the fan-out is done (" + options.join() + ", after key " + result.key() + ")");
      }
      if (doneSoFar == total) {
        endNanos = System.nanoTime();
        ScheduledFuture<?> deadline = deadlineTimer;
        if (deadline != null) {
          deadline.cancel(false);
        }
        lock.lock();
        try {
          fanOuts.remove(this);
        } finally {
          lock.unlock();
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
          log.warn("worker pool '{}': progress listener failed (later failures at DEBUG)", name, e);
        } else {
          log.debug("worker pool '{}': progress listener failed", name, e);
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
          log.warn("worker pool '{}': the fan-out's join failed; ending the fan-out", name, e);
          joined = true;
        }
        return joined;
      } finally {
        joinLock.unlock();
      }
    }

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
      cancelJobs(unfinished, reason);
    }
  }

  /** Feeds {@link PoolMeters}. */
  private final class Meters implements PoolMeters.Source {
    @Override
    public int activeCount() {
      return status().active();
    }

    @Override
    public int queuedCount() {
      return status().queued();
    }

    @Override
    public long completedCount() {
      return completed.sum();
    }

    @Override
    public long failedCount() {
      return failed.sum();
    }

    @Override
    public long retriedCount() {
      return retried.sum();
    }
  }

  /** Builds a {@link WorkerPool}. */
  public static final class Builder {
    private final ParallelConfig config;
    private @Nullable String name;
    private @Nullable MeterRegistry registry;
    private @Nullable ThreadFactory threadFactory;
    private @Nullable Policies<Object> policies;
    private @Nullable RetryPolicy retryPolicy;
    private @Nullable RateGate rateGate;
    private @Nullable Function<Object, ? extends RateGate> gateForKey;
    private @Nullable Ticker ticker;
    private ContextPropagator propagator = ContextPropagator.mdc();
    private Duration interruptGrace = Duration.ofSeconds(5);

    private Builder(ParallelConfig config) {
      this.config = Objects.requireNonNull(config, "config");
    }

    /** The pool's name for threads, logs and meters; by default {@code pool-<n>}. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      this.name = Names.nonBlank(name);
      return this;
    }

    /** Registers the pool's meters (see the class documentation) in {@code registry}. */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * The factory for worker threads; by default virtual threads named
     * {@code fanout-<name>-<n>}. A platform-thread factory suits CPU-bound tasks.
     */
    public Builder threadFactory(ThreadFactory threadFactory) {
      this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
      return this;
    }

    /**
     * The policies every task runs under, in their order (see {@link Policies}): they replace the
     * composition the pool would otherwise build from its config ({@link
     * ParallelConfig#policies()}: retry from {@code maxRetries}, the {@code rateSpacing} gate, the
     * {@code taskTimeout}), so those three settings of the config are not used. The keys the pool
     * runs tasks for are the keys the policies see (a keyed gate's function gets them).
     *
     * @throws IllegalStateException at {@link #build()} if {@link #retryPolicy}, {@link #rateGate},
     *     {@link #rateGates} or {@link #ticker} was set too: those shape the default composition
     *     only
     */
    @SuppressWarnings("unchecked")
    public Builder policies(Policies<?> policies) {
      this.policies = (Policies<Object>) Objects.requireNonNull(policies, "policies");
      return this;
    }

    /**
     * The retry policy every task runs under; by default
     * {@link RetryPolicy#ofRetries(int) RetryPolicy.ofRetries(config.maxRetries())} (1 s, 2 s,
     * 4 s ... between attempts), or {@link RetryPolicy#none()} when {@code maxRetries} is 0.
     */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
      return this;
    }

    /**
     * The gate every attempt of every task passes before it starts; by default
     * {@link RateGate#spacing(Duration) RateGate.spacing(config.rateSpacing())}, or
     * {@link RateGate#unlimited()} when the spacing is zero. Replaces {@link #rateGates}.
     */
    public Builder rateGate(RateGate rateGate) {
      this.rateGate = Objects.requireNonNull(rateGate, "rateGate");
      this.gateForKey = null;
      return this;
    }

    /**
     * A gate per key, such as one per AWS account and region from a
     * {@link dev.fanout.rate.KeyedRateGates}: each attempt passes the gate of its task's key.
     * Replaces {@link #rateGate}.
     *
     * {@snippet :
     * KeyedRateGates<AccountRegion> gates =
     *     KeyedRateGates.create(key -> RateGate.perSecond(10, 1));
     * WorkerPool pool = WorkerPool.builder(config)
     *     .rateGates(key -> gates.gate((AccountRegion) key))
     *     .build();
     * }
     */
    public Builder rateGates(Function<Object, ? extends RateGate> gateForKey) {
      this.gateForKey = Objects.requireNonNull(gateForKey, "gateForKey");
      this.rateGate = null;
      return this;
    }

    /**
     * The clock an attempt's running time is read on for {@link ParallelConfig#taskTimeout()}; the
     * system's unless set. An attempt that ran longer than the task timeout by this clock fails
     * with {@link TaskTimeoutException} even if the timer that interrupts it never got to run.
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker must not be null");
      return this;
    }

    /**
     * What context of the submitting thread every attempt of a task runs with: captured when the
     * task is submitted (or the fan-out started; a coalesced submission brings its own), restored
     * around each attempt on the worker's thread and taken away after it; {@link
     * ContextPropagator#mdc()} (the SLF4J MDC) unless set, {@link ContextPropagator#none()} for
     * nothing.
     */
    public Builder contextPropagator(ContextPropagator propagator) {
      this.propagator = Objects.requireNonNull(propagator, "contextPropagator must not be null");
      return this;
    }

    /**
     * How long {@link WorkerPool#close()} waits, after interrupting the tasks that outlived the
     * shutdown timeout, for them to end; 5 s unless set. Tasks still running then are reported
     * (see {@link WorkerPool#stillRunning()}) and close returns without them.
     *
     * @throws IllegalArgumentException if {@code interruptGrace} is negative
     */
    public Builder interruptGrace(Duration interruptGrace) {
      Objects.requireNonNull(interruptGrace, "interruptGrace must not be null");
      if (interruptGrace.isNegative()) {
        throw new IllegalArgumentException(
            "interruptGrace must not be negative, was " + interruptGrace);
      }
      this.interruptGrace = interruptGrace;
      return this;
    }

    /**
     * Builds the pool. It holds no thread until work arrives.
     *
     * @throws IllegalStateException if {@link #policies} and one of the settings of the default
     *     composition were both set
     */
    public WorkerPool build() {
      if (policies != null
          && (retryPolicy != null || rateGate != null || gateForKey != null || ticker != null)) {
        throw new IllegalStateException(
            "policies replace the default composition: set retryPolicy, rateGate, rateGates and"
                + " ticker in the Policies given, not on the pool's builder");
      }
      return new WorkerPool(this);
    }

    /**
     * The given policies, or the default composition: retry, then the rate gate, then the attempt
     * timeout, from the config unless the builder's settings replace them.
     */
    private Policies<Object> policies(String poolName) {
      if (policies != null) {
        return policies;
      }
      Policies.Builder<Object> composition = Policies.builder();
      composition.retry(
          retryPolicy != null
              ? retryPolicy
              : config.maxRetries() == 0
                  ? RetryPolicy.none()
                  : RetryPolicy.ofRetries(config.maxRetries()).toBuilder().name(poolName).build());
      if (gateForKey != null) {
        composition.rateGates(gateForKey);
      } else {
        composition.rateGate(
            rateGate != null ? rateGate : RateGate.spacing(config.rateSpacing()));
      }
      if (config.taskTimeout() != null) {
        composition.attemptTimeout(config.taskTimeout());
      }
      if (ticker != null) {
        composition.ticker(ticker);
      }
      return composition.build();
    }
  }
}
