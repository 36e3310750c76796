package dev.fanout;

import dev.fanout.context.ContextPropagator;
import dev.fanout.internal.Names;
import dev.fanout.internal.PoolMeters;
import dev.fanout.rate.RateGate;
import dev.fanout.retry.RetryPolicy;
import dev.fanout.time.Ticker;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one executor fan-out needs: runs one {@link Task} per key, at most
 * {@link ParallelConfig#concurrency() concurrency} at once, on virtual threads by default, and
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
 *  └ queue: wait for a free worker       at most concurrency run
 *     └ the pool's {@link Policies}        Builder.policies, in their order; by default
 *        └ retry policy                  Builder.retryPolicy, default from maxAttempts
 *           └ rate gate (each attempt)   Builder.rateGate / rateGates(key -> gate),
 *                                        default RateGate.spacing(rateSpacing)
 *              └ attempt timeout         ParallelConfig.taskTimeout: interrupts the attempt,
 *                 └ context restored     Builder.contextPropagator (the submitter's MDC)
 *                    └ task              which fails with TaskTimeoutException (retryable)
 * </pre>
 *
 * A worker holds its slot while it waits for the gate or sleeps between attempts, so {@code
 * concurrency} bounds concurrent calls and the gate bounds their rate, retries included. Cancellation — {@link #cancel(Object)}, fail-fast
 * ({@link FailureMode#FAIL_FAST}), the deadline, a closed result channel, or a shutdown out of
 * patience — reports the key at once as a {@link Result.Failure} with a
 * {@link java.util.concurrent.CancellationException}, drops it if queued and interrupts it if
 * running (a retry wait ends there). A worker stays occupied until its task actually returns, so
 * {@code concurrency} is a true bound on running tasks. {@link Result#attempts()} counts the
 * attempts the retry policy made.
 *
 * <h2>Threads and memory</h2>
 *
 * The pool starts a worker thread only when a task is queued and fewer than {@code concurrency}
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
 *
 * <p>Implementation: this class is the API and the lifecycle only; the queue and its workers,
 * keyed submissions, fan-outs and the timer are package-private classes beside it that share
 * the pool's one lock. It still runs past 500 lines because it documents the whole API and
 * nests {@link Builder}, which must stay {@code WorkerPool.Builder}.
 */
public final class WorkerPool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);
  private static final AtomicInteger POOL_IDS = new AtomicInteger();

  // The pool is its API and its lifecycle; each mechanism is a part that shares the core's lock.
  private final PoolCore core;
  private final ReentrantLock lock;
  private final PoolTimer timer;
  private final Workers workers;
  private final KeyedRuns keyed;
  private final @Nullable PoolMeters meters;
  private final Duration interruptGrace;

  private WorkerPool(Builder builder) {
    String name = builder.name != null ? builder.name : "pool-" + POOL_IDS.incrementAndGet();
    ThreadFactory threadFactory =
        builder.threadFactory != null
            ? builder.threadFactory
            : Thread.ofVirtual().name("fanout-" + name + "-", 0).factory();
    this.core = new PoolCore(name, builder.config, builder.propagator);
    this.lock = core.lock;
    this.interruptGrace = builder.interruptGrace;
    this.timer = new PoolTimer(core);
    this.workers = new Workers(core, threadFactory, builder.policies(name), timer);
    this.keyed = new KeyedRuns(core, workers);
    this.meters =
        builder.registry == null ? null : new PoolMeters(builder.registry, name, new Meters());
    core.meters = meters;
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
    return core.name;
  }

  /** The config the pool was made with. */
  public ParallelConfig config() {
    return core.config;
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
    return fanOut(keys, task, FanOutOptions.of(core.config));
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
    FanOutRun fanOut = new FanOutRun(core, workers, keys, task, options, untyped).start(timer);
    channel.onClose(() -> fanOut.cancelAll("result channel closed"));
    return channel;
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
    return fanOutAndWait(keys, task, FanOutOptions.of(core.config));
  }

  /** As {@link #fanOutAndWait(Collection, Task)}, reporting progress to {@code progress}. */
  public <K, V> FanOutReport<K, V> fanOutAndWait(
      Collection<? extends K> keys, Task<? super K, ? extends V> task, ProgressListener progress)
      throws InterruptedException {
    return fanOutAndWait(keys, task, FanOutOptions.of(core.config).withProgress(progress));
  }

  /** As {@link #fanOutAndWait(Collection, Task)}, with this fan-out's own options. */
  public <K, V> FanOutReport<K, V> fanOutAndWait(
      Collection<? extends K> keys, Task<? super K, ? extends V> task, FanOutOptions options)
      throws InterruptedException {
    Objects.requireNonNull(keys, "keys");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(options, "options");
    return new FanOutRun(core, workers, keys, task, options, null).start(timer).awaitReport();
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
  public <K, V> TaskHandle<K, V> submit(
      K key, Task<? super K, ? extends V> task, WhileRunning whileRunning) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(whileRunning, "whileRunning");
    return keyed.submit(key, task, whileRunning);
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
    Objects.requireNonNull(key, "key");
    List<Job> targets = new ArrayList<>();
    lock.lock();
    try {
      keyed.collect(key, targets);
      for (FanOutRun fanOut : core.fanOuts) {
        Job job = fanOut.job(key);
        if (job != null) {
          targets.add(job);
        }
      }
    } finally {
      lock.unlock();
    }
    return workers.cancelJobs(targets, "cancelled by cancel(" + key + ")") > 0;
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
    return workers.cancelAll(reason);
  }

  // ---------------------------------------------------------------------------------------------
  // Status and shutdown

  /** A snapshot of the pool's counters. */
  public PoolStatus status() {
    lock.lock();
    try {
      return new PoolStatus(
          workers.activeCount(),
          workers.queuedCount(),
          core.completed.sum(),
          core.failed.sum(),
          core.retried.sum());
    } finally {
      lock.unlock();
    }
  }

  /** Whether {@link #close()} has begun. */
  public boolean isClosed() {
    lock.lock();
    try {
      return !core.accepting;
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
      return List.copyOf(workers.runningKeys());
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
    String name = core.name;
    lock.lock();
    try {
      if (workers.isWorker(Thread.currentThread())) {
        throw new IllegalStateException("a task must not close its own pool '" + name + "'");
      }
      if (core.closed) {
        return;
      }
      core.accepting = false;
    } finally {
      lock.unlock();
    }
    boolean interrupted = false;
    boolean drained;
    try {
      drained = workers.awaitGone(core.config.shutdownTimeout().toNanos());
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
          core.config.shutdownTimeout(),
          cancelled);
      try {
        // Interrupted tasks get the grace to end; one that ignores interrupts is reported.
        if (!workers.awaitGone(interruptGrace.toNanos())) {
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
    @Nullable ScheduledThreadPoolExecutor timerToStop;
    lock.lock();
    try {
      core.closed = true;
      toJoin = workers.takeExited();
      timerToStop = timer.detach();
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
    if (PoolTimer.stop(timerToStop)) {
      interrupted = true;
    }
    if (meters != null) {
      meters.remove();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    log.debug("worker pool '{}' closed: {}", name, status());
  }

  @Override
  public String toString() {
    return "WorkerPool[" + core.name + ", " + status() + "]";
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
      return core.completed.sum();
    }

    @Override
    public long failedCount() {
      return core.failed.sum();
    }

    @Override
    public long retriedCount() {
      return core.retried.sum();
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
     * ParallelConfig#policies()}: retry from {@code maxAttempts}, the {@code rateSpacing} gate, the
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
     * {@link RetryPolicy#ofRetries(int) RetryPolicy.ofRetries(config.maxAttempts() - 1)} (1 s, 2 s,
     * 4 s ... between attempts), or {@link RetryPolicy#none()} when {@code maxAttempts} is 1.
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
              : config.maxAttempts() == 1
                  ? RetryPolicy.none()
                  : RetryPolicy.ofRetries(config.maxAttempts() - 1).toBuilder().name(poolName).build());
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
