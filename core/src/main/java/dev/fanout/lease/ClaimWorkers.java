package dev.fanout.lease;

import dev.fanout.time.Sleeper;
import dev.fanout.time.Ticker;
import dev.fanout.ParallelConfig;
import dev.fanout.Policies;
import dev.fanout.PoolClosedException;
import dev.fanout.WorkerPool;
import dev.fanout.context.ContextPropagator;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Workers that claim items from a {@link ClaimLeaseRepository} and run a {@link ClaimHandler} on
 * each, safely from several service instances on one store. Where a {@link java.util.concurrent.ExecutorService} runs tasks you hand it, claim
 * workers go and fetch their work, hold it under a lease, and give it back when they cannot
 * finish.
 *
 * {@snippet :
 * ClaimWorkersConfig config = ClaimWorkersConfig.builder().concurrency(3).batchSize(3).build();
 * try (ClaimWorkers<Long> workers =
 *     ClaimWorkers.builder(repository, claim -> verify(claim.item())).config(config).build()) {
 *   workers.start();
 *   log.info(workers.status().summary()); // running concurrency=3 activeWorkers=3 held=9 ...
 * } // close() stops gracefully
 * }
 *
 * <h2>What runs inside what</h2>
 *
 * One claim loop per instance {@linkplain ClaimLeaseRepository#claim claims} items under a lease
 * of {@link ClaimWorkersConfig#leaseDuration() leaseDuration}, under the instance's one
 * {@linkplain #workerId() worker id}, and hands each item to a {@link dev.fanout.WorkerPool} of
 * {@link ClaimWorkersConfig#concurrency() concurrency} workers — the engine every runner of this
 * library uses. The instance holds at most {@code concurrency ×} {@link
 * ClaimWorkersConfig#batchSize() batchSize} items, running or waiting for a worker; whenever at
 * least {@code batchSize} of those places are free, the loop claims as many items as there are
 * free places, in one call, so a claim's round trip overlaps the handlers that run and refills
 * every handler that ended meanwhile. Each item's task, on a pool worker:
 *
 * <ol>
 *   <li>an item on an attempt past {@link ClaimWorkersConfig#maxAttempts() maxAttempts} (its
 *       earlier runs started but their leases ran out, as when it crashes its workers) is marked
 *       failed unseen;
 *   <li>otherwise the run is {@linkplain ClaimLeaseRepository#markStarted marked started} in the
 *       store — only from then on does a lease that runs out count as an attempt, so the
 *       batch-mates of an item that kills its worker lose nothing — and the handler runs; if it returns, the item is completed — at once, or handed to
 *       the completion flusher, which completes many claims in one fenced call (see {@link
 *       ClaimWorkersConfig#completionBatchSize()});
 *   <li>if it throws, the item is released for another attempt after {@link
 *       ClaimWorkersConfig#retryDelayAfter(int) a growing delay}, or, on its last attempt, marked
 *       failed.
 * </ol>
 *
 * When a poll finds nothing the claim loop waits {@link ClaimWorkersConfig#pollInterval()
 * pollInterval}, doubling the wait on each further empty poll up to {@link
 * ClaimWorkersConfig#maxPollInterval() maxPollInterval}, each wait drawn at random between the
 * doubled interval and twice it (never above {@code maxPollInterval}) so that idle instances do
 * not poll in step; a failing claim backs off the same way. A failing call that starts or ends a claim
 * is retried through a {@link dev.fanout.retry.RetryPolicy} for at most one lease, after
 * exponential waits from {@code pollInterval} to {@code maxPollInterval} with {@linkplain
 * dev.fanout.retry.Jitter#EQUAL equal jitter}. Failures are logged ("(3 in a row), trying again in
 * 80 ms") and retried — a store that comes back is simply used again. A store
 * failure that is {@linkplain LeaseStoreException#isTransient() not transient} (bad data, a schema
 * that does not fit) is logged as an error and not retried: a completion, release or failure that
 * hits it is abandoned at once (the lease runs out and the reaper returns the item), and claiming
 * waits {@code maxPollInterval} before it asks again. Beside
 * the workers, a heartbeat renews the leases of all held claims every {@link
 * ClaimWorkersConfig#heartbeatInterval() heartbeatInterval} in one {@link
 * ClaimLeaseRepository#renewAll renewAll} call, and a reaper {@linkplain
 * ClaimLeaseRepository#reclaimExpired() reclaims} expired leases — those of crashed workers
 * anywhere — every {@link ClaimWorkersConfig#reaperInterval() reaperInterval}, first at start,
 * spreading the returned items over {@link ClaimWorkersConfig#reclaimJitter() reclaimJitter}.
 *
 * <h2>Guarantees</h2>
 *
 * At-least-once: an item is completed once, but its handler may run again if a worker dies or
 * overruns its lease before completing it. Fencing makes the overrun harmless to the store: the
 * late worker's calls report lease lost and change nothing (counted in {@link
 * ClaimWorkersStatus#leaseLost()}). A completion, release, failure or give-back whose reply was
 * lost is retried; the store recognises the retry of a call it already applied (see {@link
 * ClaimLeaseRepository}, settling twice), so it is counted as what it did, once, not as a lost
 * lease.
 *
 * <h2>Lease lost while the handler runs</h2>
 *
 * When the heartbeat's renewal of a running item's lease is refused — the lease ended (a long
 * pause, a store that was out of reach), or the item was reclaimed or taken by another worker —
 * the claim is marked {@linkplain Claim#isLeaseLost() lease lost} and the handler's thread is
 * interrupted: a handler blocked in an interruptible wait ends at once, and one that works in
 * steps can call {@link Claim#checkLease()} between them. If the handler still returns normally,
 * completing is tried (a late worker whose item nobody took may still finish); if it throws, the
 * item is left to the store (counted as lease lost). A refusal for a claim this instance is
 * settling itself — a renewal that raced the item's own completion — is expected and ignored.
 * The interrupt only cuts the stale run short: fence downstream writes with the {@linkplain
 * Claim#token() token} to make the race harmless.
 *
 * <h2>Accounting</h2>
 *
 * Every claimed item ends in exactly one outcome of {@link #status()} — completed, failed,
 * retried, given back, lease lost or abandoned — or is still held, and each snapshot is consistent
 * ({@link ClaimWorkersStatus#accountedFor()}). {@link #awaitDrained(Duration)} waits for a batch
 * job's store to run dry.
 *
 * <h2>Shutdown</h2>
 *
 * {@link #stop()} (and {@link #close()}) stop claiming, let each running handler finish the item
 * in hand, give the items still waiting for a worker back without counting an attempt, flush
 * pending completions, and only then stop the heartbeat and the reaper. Handlers still running
 * after {@link ClaimWorkersConfig#shutdownTimeout() shutdownTimeout} are interrupted: one that
 * then throws gives its item back, one that returns normally completes it. When {@code stop}
 * returns {@code true}, no thread of these workers is alive (see {@link #stop(Duration)} for a
 * stop called from a handler).
 *
 * <h2>Time</h2>
 *
 * Deadlines (the retry window of a store call, the flusher's linger, the timeouts of {@link
 * #stop(Duration)} and {@link #awaitDrained(Duration)}) are read from the {@linkplain
 * Builder#ticker ticker}, and the waits between retries of a store call go through the {@linkplain
 * Builder#sleeper sleeper}, so tests can run them on a fake clock. Waits that end on an event (a
 * stop, a completion handed over) stay timed waits on that event.
 *
 * <h2>Inside</h2>
 *
 * This class keeps the API, the lifecycle and the claim loop; the handlers run on a {@link
 * dev.fanout.WorkerPool}, and each other mechanism is a small package-private class: what one
 * claimed item goes through ({@code ClaimRun}: fail unseen, run, complete, release, give back),
 * {@code Heartbeat}, {@code Reaper}, {@code CompletionFlusher}, the retried store calls ({@code
 * StoreCalls}), the idle back-off ({@code Pacing}), the claim loop's capacity and wake-ups ({@code
 * Slots}) and the balance of held claims and outcomes ({@code Tally}). It is still over 500 lines
 * because about half of it is the documentation of the whole runner and its builder, and the
 * claim loop and the lifecycle (start, a graceful stop with its ordered hand-offs, a stop from a
 * handler) share the stop state and read best together.
 *
 * <p>Memory consistency: actions before {@link #start()} happen-before every handler call; the
 * actions of a handler happen-before the completion, release or failure of its item is recorded
 * in the store and in {@link #status()}.
 *
 * @param <T> the item type
 */
public final class ClaimWorkers<T> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClaimWorkers.class);
  private static final AtomicInteger IDS = new AtomicInteger();
  /** Idle and failure rounds past this wait as long as this one (the back-off is capped by then). */
  private static final int MAX_ROUND = 64;

  private enum Phase {
    NEW,
    RUNNING,
    STOPPED
  }

  private final String name;
  private final ClaimLeaseRepository<T> repository;
  private final Policies<? super T> policies;
  private final ClaimWorkersConfig config;
  private final @Nullable ThreadFactory threadFactory;
  private final @Nullable MeterRegistry registry;
  private final String workerId;
  private final Ticker ticker;
  private final Pacing pacing;
  private final Tally<T> tally = new Tally<>();
  private final StoreCalls<T> calls;
  private final @Nullable CompletionFlusher<T> flusher;
  private final ClaimRun<T> claimRun;

  private final ReentrantLock lifecycle = new ReentrantLock();
  // Guarded by lifecycle.
  private Phase phase = Phase.NEW;
  private boolean stoppedCleanly;
  private @Nullable Thread claimLoop;
  private @Nullable WorkerPool pool;
  private final List<Thread> serviceThreads = new ArrayList<>();
  private final List<Thread> flusherThreads = new ArrayList<>();
  private @Nullable ClaimMeters meters;

  private volatile boolean running;
  /** By {@link #ticker}; {@code Long.MAX_VALUE} until {@link #stop(Duration)} sets it. */
  private volatile long stopDeadlineNanos = Long.MAX_VALUE;
  private final CountDownLatch workersStop = new CountDownLatch(1);
  private final CountDownLatch servicesStop = new CountDownLatch(1);
  private final AtomicInteger active = new AtomicInteger();
  private final Slots slots;
  /** The threads inside {@link #runHandler} now, so that a stop from a handler knows it is one. */
  private final Set<Thread> handlerThreads = ConcurrentHashMap.newKeySet();

  private ClaimWorkers(Builder<T> builder) {
    this.repository = builder.repository;
    this.policies = builder.policies;
    this.config = builder.config;
    this.name = builder.name != null ? builder.name : "claims-" + IDS.incrementAndGet();
    this.threadFactory = builder.threadFactory;
    this.registry = builder.registry;
    this.workerId =
        builder.workerId != null
            ? builder.workerId
            : name
                + "-"
                + ProcessHandle.current().pid()
                + "-"
                + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
    this.slots = new Slots(config.concurrency() * config.batchSize());
    this.ticker = builder.ticker;
    this.pacing = new Pacing(config, builder.random);
    this.calls =
        new StoreCalls<>(
            name, config, tally, ticker, builder.sleeper, builder.random, () -> stopDeadlineNanos);
    this.flusher =
        config.batchesCompletions()
            ? new CompletionFlusher<>(name, repository, tally, calls, ticker, config)
            : null;
    this.claimRun =
        new ClaimRun<>(
            repository,
            builder.handler,
            policies,
            config,
            calls,
            tally,
            flusher,
            ticker,
            () -> running,
            () -> meters);
  }

  /**
   * A builder for workers that claim from {@code repository} and run {@code handler} on each
   * claim, with {@link ClaimWorkersConfig#defaults()} unless told otherwise.
   */
  public static <T> Builder<T> builder(
      ClaimLeaseRepository<T> repository, ClaimHandler<T> handler) {
    return new Builder<>(repository, handler);
  }

  /** The name used in worker ids, thread names, logs and the {@code workers} meter tag. */
  public String name() {
    return name;
  }

  /** The config these workers run with. */
  public ClaimWorkersConfig config() {
    return config;
  }

  /**
   * The id these workers claim under, the owner of their claims in the store: one per instance,
   * default {@code <name>-<pid>-<random>}, distinct per instance; see {@link Builder#workerId}.
   */
  public String workerId() {
    return workerId;
  }

  /**
   * The id worker {@code index} claims under: {@link #workerId()}, the same for every index, since
   * one claim loop claims for all the workers of an instance.
   *
   * @deprecated use {@link #workerId()}
   * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, concurrency)}
   */
  @Deprecated(since = "0.1.0", forRemoval = true)
  public String workerId(int index) {
    Objects.checkIndex(index, config.concurrency());
    return workerId;
  }

  /**
   * Starts the reaper, the heartbeat, the completion flusher if configured, and the workers.
   *
   * @throws IllegalStateException if already started or stopped
   */
  public void start() {
    lifecycle.lock();
    try {
      if (phase != Phase.NEW) {
        throw new IllegalStateException(name + " was already started (workers cannot restart)");
      }
      phase = Phase.RUNNING;
      running = true;
      if (registry != null) {
        meters = new ClaimMeters(registry, name, this);
      }
      if (!config.reaperInterval().isZero()) {
        serviceThreads.add(
            newThread("reaper", new Reaper<>(name, repository, tally, config, workersStop)));
      }
      serviceThreads.add(
          newThread("heartbeat", new Heartbeat<>(name, repository, tally, config, servicesStop)));
      if (flusher != null) {
        // One flusher per four workers (at most four): a flush's round trip overlaps the others'.
        int flushers = Math.min(4, Math.max(1, config.concurrency() / 4));
        for (int i = 0; i < flushers; i++) {
          flusherThreads.add(newThread("flusher-" + i, flusher));
        }
      }
      pool = newPool();
      Thread loop = newThread("claimer", this::claimLoop);
      claimLoop = loop;
      serviceThreads.forEach(Thread::start);
      flusherThreads.forEach(Thread::start);
      loop.start();
      log.info(
          "{}: started, {} handlers at once (batch {}, lease {}, heartbeat {}, reaper {},"
              + " completion batch {})",
          name,
          config.concurrency(),
          config.batchSize(),
          config.leaseDuration(),
          config.heartbeatInterval(),
          config.reaperInterval().isZero() ? "off" : config.reaperInterval(),
          config.completionBatchSize());
    } finally {
      lifecycle.unlock();
    }
  }

  /**
   * Ends the claim loop's idle wait at once, so that it claims now rather than at its next poll,
   * and starts its back-off over: for a service that has just added items to the store (or
   * learned that someone did) and wants them handled within milliseconds, not within {@link
   * ClaimWorkersConfig#maxPollInterval() maxPollInterval}. A wake-up made while the loop is busy
   * (or before {@link #start()}) ends its next idle wait; after {@link #stop()} it does nothing.
   * It does not wait for free places: an instance whose handlers are all busy claims when one
   * ends, as always. Cheap and thread-safe.
   */
  public void wakeUp() {
    slots.nudge();
  }

  /** Whether the workers are started and not stopped. */
  public boolean isRunning() {
    return running;
  }

  /**
   * A snapshot of the counters; see {@link ClaimWorkersStatus}. The claim counters and {@code
   * held} are read together, so every snapshot is {@linkplain ClaimWorkersStatus#accountedFor()
   * accounted for}.
   */
  public ClaimWorkersStatus status() {
    return tally.status(running, config.concurrency(), active.get());
  }

  /** Calls to the store that failed, each try counted; also in {@link #status()}. */
  public long storeErrors() {
    return tally.storeErrors();
  }

  /**
   * Waits until the work is drained: these workers hold no claim, and the store has no item
   * PENDING (retries waiting for their delay included) or CLAIMED (by any worker, anywhere) —
   * {@link LeaseCounts#settled()}. For batch jobs: fill the store, {@link #start()}, wait for this,
   * {@link #stop()}. The store is asked for its {@link ClaimLeaseRepository#counts() counts} only
   * when nothing is held here, at most every {@link ClaimWorkersConfig#pollInterval()
   * pollInterval}; a failing count is counted as a store error and asked again. The timeout is
   * measured by the {@linkplain Builder#ticker ticker}.
   *
   * @return true once drained, false if {@code timeout} passed first
   * @throws InterruptedException if interrupted while waiting
   */
  public boolean awaitDrained(Duration timeout) throws InterruptedException {
    Objects.requireNonNull(timeout, "timeout must not be null");
    long deadline = saturatedAdd(ticker.read(), Math.max(timeout.toNanos(), 0));
    long slice = config.pollInterval().toNanos();
    while (true) {
      if (tally.holdsNone()) {
        try {
          if (repository.counts().settled() && tally.holdsNone()) {
            return true;
          }
        } catch (RuntimeException e) {
          tally.storeError();
          log.debug("{}: counting items failed while waiting to drain: {}", name, e.toString());
        }
      }
      long left = deadline - ticker.read();
      if (left <= 0) {
        return false;
      }
      tally.awaitNoneHeld(Math.min(left, slice));
    }
  }

  /** Stops gracefully within {@link ClaimWorkersConfig#shutdownTimeout()}; see {@link #stop(Duration)}. */
  public boolean stop() {
    return stop(config.shutdownTimeout());
  }

  /**
   * Stops gracefully: no new claims; each running handler finishes the item in hand, and the items
   * waiting for a worker are given back unworked; pending completions are flushed; then the
   * heartbeat and reaper end. Handlers still running after {@code timeout} are interrupted and
   * given {@code max(timeout, 1 s)} more to end; an interrupted handler that throws gives its item
   * back, one that returns normally completes it. The timeouts are measured by the {@linkplain
   * Builder#ticker ticker}. Idempotent; a second caller waits for the first.
   *
   * <p>Called from a handler of these workers, it does not wait for that handler (it cannot end
   * while its thread is here): the other handlers are waited for as above, and the handler pool
   * is closed by a thread of its own once the calling handler has returned.
   *
   * @return true if every thread of these workers has ended (but the calling handler's, and the
   *     pool's closing thread, when called from a handler)
   */
  public boolean stop(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout must not be null");
    lifecycle.lock();
    try {
      if (phase == Phase.NEW) {
        phase = Phase.STOPPED;
        stoppedCleanly = true;
        return true;
      }
      if (phase == Phase.STOPPED) {
        return stoppedCleanly;
      }
      long patience = Math.max(timeout.toNanos(), 0);
      long grace = Math.max(patience, 1_000_000_000L);
      long deadline = saturatedAdd(ticker.read(), patience);
      stopDeadlineNanos = deadline;
      running = false;
      workersStop.countDown();
      slots.close();
      Thread loop = Objects.requireNonNull(claimLoop);
      WorkerPool handlers = Objects.requireNonNull(pool);
      // A stop from one of the handlers cannot wait for that handler: it waits for the others.
      int own = handlerThreads.contains(Thread.currentThread()) ? 1 : 0;
      // The claim loop ends after the claim call in hand; handlers finish the item in hand, and
      // the queued items are given back as they come up, unworked.
      boolean clean = joinAll(List.of(loop), deadline) && awaitHandlers(deadline, own);
      if (!clean) {
        log.warn("{}: handlers still running after {}, interrupting them", name, timeout);
        handlers.cancelAll(name + " stopped before the handler finished");
        if (own == 1) {
          Thread.interrupted(); // the cancel reached the calling handler too; it is not stopping
        }
        loop.interrupt();
        giveBackUntaken();
        long graceEnd = saturatedAdd(ticker.read(), grace);
        clean = joinAll(List.of(loop), graceEnd) && awaitHandlers(graceEnd, own);
      }
      if (own == 1) {
        closeWhenIdle(handlers);
      } else {
        // Waits (up to a second: the tasks have ended) for the workers to leave, and joins them.
        handlers.close();
        clean &= handlers.stillRunning().isEmpty();
        // A handler that outlived the grace settles its item when it ends; what no handler
        // took is given back here.
        giveBackUntaken();
      }
      CompletionFlusher<T> f = flusher;
      if (f != null) {
        f.finish();
        clean &= joinAll(flusherThreads, saturatedAdd(ticker.read(), grace));
        // Handed over by a worker that ended after the flushers did: complete them here.
        f.flushRest();
      }
      servicesStop.countDown();
      // Interrupting a thread inside a store call can break the store's connection (H2 closes
      // its files), so the heartbeat and reaper get a while to notice on their own first.
      if (!joinAll(serviceThreads, saturatedAdd(ticker.read(), 5_000_000_000L))) {
        serviceThreads.forEach(Thread::interrupt);
        clean &= joinAll(serviceThreads, saturatedAdd(ticker.read(), 1_000_000_000L));
      }
      if (meters != null) {
        meters.remove();
      }
      phase = Phase.STOPPED;
      stoppedCleanly = clean;
      if (clean) {
        log.info("{}: stopped; {}", name, status().summary());
      } else {
        log.warn("{}: stopped, but some threads did not end; {}", name, status().summary());
      }
      return clean;
    } finally {
      lifecycle.unlock();
    }
  }

  /** Same as {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  @Override
  public String toString() {
    return "ClaimWorkers[" + name + ", " + status().summary() + "]";
  }

  /**
   * Waits, until {@code deadlineNanos} by the ticker, until at most {@code own} handler tasks are
   * left (the caller's own, when it is one).
   */
  private boolean awaitHandlers(long deadlineNanos, int own) {
    boolean interrupted = false;
    try {
      while (slots.inUse() > own) {
        long left = deadlineNanos - ticker.read();
        if (left <= 0) {
          return false;
        }
        try {
          slots.awaitInUseAtMost(own, left);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      return true;
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Closes the handler pool from a thread of its own once every handler task has ended: for a
   * stop called from a handler, which cannot close its own pool.
   */
  private void closeWhenIdle(WorkerPool handlers) {
    newThread(
            "closer",
            () -> {
              try {
                while (!slots.awaitInUseAtMost(0, Long.MAX_VALUE)) {
                  // until the calling handler has returned
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              handlers.close();
              giveBackUntaken();
            })
        .start();
  }

  /** Gives back every held claim whose handler task has not begun; it will not run. */
  private void giveBackUntaken() {
    boolean interrupted = Thread.interrupted(); // the store calls must not see it
    for (Held<T> h : tally.heldNow()) {
      giveBackIfUntaken(h);
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void giveBackIfUntaken(Held<T> h) {
    if (h.take()) {
      try {
        claimRun.giveBack(h);
      } finally {
        slots.release();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The claim loop and the handler tasks

  private WorkerPool newPool() {
    ParallelConfig poolConfig =
        ParallelConfig.builder()
            .concurrency(config.concurrency())
            .maxAttempts(1)
            .rateSpacing(Duration.ZERO)
            // close() comes after every task ended (or was given up on): this only lets a worker
            // that has just finished its task leave the pool and be joined.
            .shutdownTimeout(Duration.ofSeconds(1))
            .build();
    ThreadFactory factory =
        threadFactory != null
            ? threadFactory
            : Thread.ofVirtual().name("fanout-" + name + "-worker-", 0).factory();
    return WorkerPool.builder(poolConfig)
        .name(name)
        .threadFactory(factory)
        .policies(Policies.none())
        .contextPropagator(ContextPropagator.none())
        .interruptGrace(Duration.ZERO)
        .build();
  }

  /**
   * Claims a batch whenever a batch's worth of slots is free, and hands each claimed item to the
   * handler pool: a claim round trip overlaps running handlers, and a stop ends it between calls.
   */
  private void claimLoop() {
    int idleRounds = 0;
    int failures = 0;
    boolean paused = false;
    while (running) {
      Duration pause = policies.pausedFor();
      if (pause.isPositive()) {
        // A circuit breaker of the handler's policies is open: every handler call would be
        // refused, so claim nothing until it lets a trial call through.
        if (!paused) {
          log.warn("{}: a circuit breaker is open, not claiming for {} ms", workerId, pause.toMillis());
          paused = true;
        }
        if (Waits.await(workersStop, pause.compareTo(config.maxPollInterval()) < 0 ? pause : config.maxPollInterval())) {
          break;
        }
        continue;
      }
      if (paused) {
        log.info("{}: claiming again", workerId);
        paused = false;
      }
      int free;
      try {
        free = slots.awaitFree(config.batchSize());
      } catch (InterruptedException e) {
        break;
      }
      if (free == 0) {
        break; // stopping
      }
      List<Claim<T>> claims;
      try {
        // Every free slot at once: handlers that ended during the last round trip are refilled
        // by one call, so claiming keeps up with handlers shorter than a round trip.
        claims = repository.claim(workerId, free, config.leaseDuration());
      } catch (RuntimeException e) {
        failures++;
        tally.storeError();
        Duration wait;
        if (StoreCalls.isTransient(e)) {
          wait = pacing.wait(Math.min(failures, MAX_ROUND));
          log.warn(
              "{}: claiming failed ({} in a row), trying again in {} ms: {}",
              workerId,
              failures,
              wait.toMillis(),
              e.toString());
        } else {
          // The store will refuse the same statement again until someone changes it: poll at
          // the slowest rate, and say so loudly.
          wait = config.maxPollInterval();
          log.error(
              "{}: claiming failed ({} in a row) with a failure no retry can fix, trying again"
                  + " in {} ms",
              workerId,
              failures,
              wait.toMillis(),
              e);
        }
        if (Waits.await(workersStop, wait)) {
          break;
        }
        continue;
      }
      if (failures > 0) {
        log.info("{}: claiming works again after {} failures", workerId, failures);
        failures = 0;
      }
      if (claims.isEmpty()) {
        idleRounds = Math.min(idleRounds + 1, MAX_ROUND);
        try {
          if (slots.awaitNudge(pacing.wait(idleRounds).toNanos())) {
            idleRounds = 0; // told there is work: the back-off starts over
          }
        } catch (InterruptedException e) {
          break;
        }
        continue; // the loop's condition sees a stop
      }
      idleRounds = 0;
      List<Held<T>> batch = new ArrayList<>(claims.size());
      for (Claim<T> claim : claims) {
        batch.add(new Held<>(claim));
      }
      tally.claimed(batch);
      slots.take(batch.size());
      WorkerPool handlers = Objects.requireNonNull(pool);
      for (int i = 0; i < batch.size(); i++) {
        Held<T> h = batch.get(i);
        // Keyed by the claim, not the item: a queued key would be coalesced, and an item
        // claimed again (its stale run still queued) must keep both claims.
        try {
          handlers.submit(h, held -> runHandler(h));
        } catch (PoolClosedException e) {
          giveBackIfUntaken(h); // a stop that ran out of patience closed the pool meanwhile
        } catch (RuntimeException | Error e) {
          // The pool could not take the task (the thread factory failed, no memory for a
          // thread): give back what did not get in, and claim again after a pause. A task that
          // did get in and runs later finds its claim taken and does nothing.
          log.error(
              "{}: could not hand {} claimed item(s) to a worker; gave them back", workerId,
              batch.size() - i, e);
          for (int j = i; j < batch.size(); j++) {
            giveBackIfUntaken(batch.get(j));
          }
          if (Waits.await(workersStop, config.maxPollInterval())) {
            return;
          }
          break;
        }
      }
    }
  }

  /** The handler task of one claim, on a thread of the handler pool. */
  private @Nullable Void runHandler(Held<T> h) {
    if (!h.take()) {
      return null; // a stop gave it back already
    }
    Thread self = Thread.currentThread();
    handlerThreads.add(self);
    active.incrementAndGet();
    try {
      if (!running) {
        boolean interrupted = Thread.interrupted(); // the store call must not see it
        claimRun.giveBack(h);
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      } else if (h.renewRefused) {
        // The lease ended before the handler started: give the item back if it is still ours.
        claimRun.giveBack(h);
      } else {
        claimRun.process(h);
      }
      return null;
    } finally {
      active.decrementAndGet();
      // Whatever ended the run early (an Error out of a handler), nothing stays held here: the
      // heartbeat would otherwise renew the lease forever.
      if (tally.holds(h) && !h.settling) {
        claimRun.giveBack(h);
      }
      handlerThreads.remove(self);
      slots.release();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private Thread newThread(String role, Runnable body) {
    Runnable guarded =
        () -> {
          try {
            body.run();
          } catch (Throwable t) {
            log.error("{}: {} thread ended unexpectedly", name, role, t);
            throw t;
          }
        };
    if (threadFactory != null) {
      Thread thread = threadFactory.newThread(guarded);
      if (thread == null) {
        throw new IllegalStateException(name + ": the thread factory returned no thread");
      }
      return thread;
    }
    return Thread.ofVirtual().name("fanout-" + name + "-" + role).unstarted(guarded);
  }

  /** Joins {@code threads} until {@code deadlineNanos} by the ticker; true if all ended. */
  private boolean joinAll(List<Thread> threads, long deadlineNanos) {
    boolean interrupted = false;
    try {
      for (Thread t : threads) {
        if (t == Thread.currentThread()) {
          continue;
        }
        while (t.isAlive()) {
          long left = deadlineNanos - ticker.read();
          if (left <= 0) {
            return false;
          }
          try {
            t.join(Duration.ofNanos(left));
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      }
      return true;
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE - 1 : sum;
  }

  /** Builds {@link ClaimWorkers}. Not thread-safe. */
  public static final class Builder<T> {
    private final ClaimLeaseRepository<T> repository;
    private final ClaimHandler<T> handler;
    private ClaimWorkersConfig config = ClaimWorkersConfig.defaults();
    private @Nullable String name;
    private @Nullable String workerId;
    private @Nullable ThreadFactory threadFactory;
    private @Nullable MeterRegistry registry;
    private Ticker ticker = Ticker.systemTicker();
    private Sleeper sleeper = Sleeper.systemSleeper();
    private Supplier<? extends RandomGenerator> random = ThreadLocalRandom::current;
    private Policies<? super T> policies = Policies.none();

    private Builder(ClaimLeaseRepository<T> repository, ClaimHandler<T> handler) {
      this.repository = Objects.requireNonNull(repository, "repository must not be null");
      this.handler = Objects.requireNonNull(handler, "handler must not be null");
    }

    /** The config; default {@link ClaimWorkersConfig#defaults()}. */
    public Builder<T> config(ClaimWorkersConfig config) {
      this.config = Objects.requireNonNull(config, "config must not be null");
      return this;
    }

    /**
     * The name used in worker ids, thread names, logs and meter tags, at most 100 characters;
     * default {@code claims-<n>}.
     */
    public Builder<T> name(String name) {
      Objects.requireNonNull(name, "name must not be null");
      if (name.isBlank() || name.length() > 100) {
        throw new IllegalArgumentException(
            "name must be 1 to 100 characters and not blank, was \"" + name + "\"");
      }
      this.name = name;
      return this;
    }

    /**
     * The id written to the store as the owner of every claim these workers make, at most 202
     * characters. Default {@code <name>-<pid>-<random>}, distinct per instance; two instances
     * must not share one (their claims would be each other's).
     */
    public Builder<T> workerId(String workerId) {
      Objects.requireNonNull(workerId, "workerId must not be null");
      if (workerId.isBlank() || workerId.length() > 202) {
        throw new IllegalArgumentException(
            "workerId must be 1 to 202 characters and not blank, was \"" + workerId + "\"");
      }
      this.workerId = workerId;
      return this;
    }

    /**
     * Sets the {@linkplain #workerId(String) worker id} to {@code <workerIdPrefix>-0}: the id
     * worker 0 had when each worker claimed under an id of its own, so that queries written for
     * those ids ({@code LIKE '<prefix>-%'}) still match. At most 200 characters.
     *
     * @deprecated use {@link #workerId(String)}
     */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public Builder<T> workerIdPrefix(String workerIdPrefix) {
      Objects.requireNonNull(workerIdPrefix, "workerIdPrefix must not be null");
      if (workerIdPrefix.isBlank() || workerIdPrefix.length() > 200) {
        throw new IllegalArgumentException(
            "workerIdPrefix must be 1 to 200 characters and not blank, was \""
                + workerIdPrefix
                + "\"");
      }
      this.workerId = workerIdPrefix + "-0";
      return this;
    }

    /**
     * Where the threads come from: the handler pool's workers (default virtual threads named
     * {@code fanout-<name>-worker-<n>}, started when items wait and ended when none do), the
     * claim loop, the heartbeat, the reaper, the flushers, and the thread that closes the handler
     * pool after a {@code stop()} called from a handler (default one virtual thread each, named
     * {@code fanout-<name>-<role>}).
     */
    public Builder<T> threadFactory(ThreadFactory threadFactory) {
      this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory must not be null");
      return this;
    }

    /** Registers the meters described in the package documentation in {@code registry}. */
    public Builder<T> meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry must not be null");
      return this;
    }

    /**
     * The policies every handler call runs through, keyed by the claim's item: a rate gate, a
     * bulkhead, a retry inside one lease, a circuit breaker; none unless set. While a circuit
     * breaker of the composition is open ({@link Policies#pausedFor()}), the workers claim
     * nothing, so that no item is leased only to be refused; a handler call the breaker refuses
     * anyway gives its item back without using up an attempt. A retry here repeats the handler
     * within the same claim (its lease is renewed as usual), before the item's own {@code
     * maxAttempts} come into play.
     */
    public Builder<T> policies(Policies<? super T> policies) {
      this.policies = Objects.requireNonNull(policies, "policies must not be null");
      return this;
    }

    /**
     * The clock for every deadline the workers compute: how long a failing store call is retried
     * (one lease, less when stopping), how long the completion flusher lingers for a batch, the
     * timeouts of {@link ClaimWorkers#stop(Duration)} and {@link ClaimWorkers#awaitDrained}, and
     * the handler timer. Default {@link Ticker#systemTicker()}. Waits that end on an event —
     * idle polls, failed claims and the heartbeat and reaper intervals, which all end at once on
     * {@code stop()}, and the flusher's wait for work — are timed waits on that event and run by
     * the system's clock; lease ends are the store's business. A fake ticker must be moved on for
     * its deadlines to pass.
     */
    public Builder<T> ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker must not be null");
      return this;
    }

    /**
     * How the workers make their pure delays: the waits between the retries of a failing store
     * call that starts or ends a claim ({@code markStarted}, {@code complete}, {@code release},
     * {@code fail}, {@code giveBack}, the flusher's {@code completeAll}). Default {@link
     * Sleeper#systemSleeper()}; an interrupt during such a wait ends the retries and leaves the
     * claim to the reaper.
     */
    public Builder<T> sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper must not be null");
      return this;
    }

    /** Where the back-off jitter comes from; for tests that want it repeatable. */
    Builder<T> random(Supplier<? extends RandomGenerator> random) {
      this.random = Objects.requireNonNull(random, "random must not be null");
      return this;
    }

    /** Builds the workers; they do nothing until {@link ClaimWorkers#start()}. */
    public ClaimWorkers<T> build() {
      return new ClaimWorkers<>(this);
    }
  }
}
