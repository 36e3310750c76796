package dev.fanout;

import dev.fanout.context.ContextPropagator;
import dev.fanout.internal.PoolMeters;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * What the parts of one {@link WorkerPool} share: its name and config, the one lock that guards
 * the state of all of them, the pool-wide state under that lock, and the outcome counters.
 *
 * <p>Rules for every part: state changes happen under {@link #lock}; results are completed
 * outside it (delivery may wait for a slow consumer); threads of the pool are interrupted only
 * under {@link #lock} and only while they run the job being cancelled, so an interrupt never
 * leaks into the next task.
 */
final class PoolCore {
  /** How often {@link #lockForAMoment()} tries again before it waits in line. */
  private static final int SPINS = 64;

  final String name;
  final ParallelConfig config;
  final ContextPropagator propagator;
  final ReentrantLock lock = new ReentrantLock();

  // All below guarded by lock.
  /** The fan-outs with unfinished keys. */
  final Set<FanOutRun> fanOuts = new HashSet<>();
  /** False once {@link WorkerPool#close()} has begun. */
  boolean accepting = true;
  /** True once {@link WorkerPool#close()} has drained or cancelled the work; the timer is gone. */
  boolean closed;

  final LongAdder completed = new LongAdder();
  final LongAdder failed = new LongAdder();
  final LongAdder retried = new LongAdder();
  /**
   * Set once by the pool's constructor, after the parts the meters read exist and before any
   * task can run.
   */
  @Nullable PoolMeters meters;

  PoolCore(String name, ParallelConfig config, ContextPropagator propagator) {
    this.name = name;
    this.config = config;
    this.propagator = propagator;
  }

  /**
   * Takes {@link #lock} after a short spin when it is busy. The lock is held for a few hundred
   * nanoseconds at a time; a worker that parks on it instead (on a virtual thread, an unmount and
   * a reschedule) costs more than the wait, and many workers finishing at once would queue up
   * behind one another's wake-ups.
   */
  void lockForAMoment() {
    if (lock.tryLock()) {
      return;
    }
    for (int i = 0; i < SPINS; i++) {
      Thread.onSpinWait();
      if (lock.tryLock()) {
        return;
      }
    }
    lock.lock();
  }

  /** Under lock: throws if the pool no longer accepts work. */
  void ensureAccepting() {
    if (!accepting) {
      throw new PoolClosedException(name);
    }
  }

  /** Counts a job's result, once per job. */
  void recordOutcome(Result<Object, Object> result) {
    boolean success = result instanceof Result.Success;
    (success ? completed : failed).increment();
    PoolMeters m = meters;
    if (m != null) {
      m.recordTask(result.elapsed().toNanos(), success);
    }
  }
}
