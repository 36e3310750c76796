package dev.fanout.lease;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.atomic.LongAdder;

/**
 * The balance of {@link ClaimWorkers}: the claims held now and what became of every other claim.
 * Both change together under one lock, so that every {@link #status snapshot} adds up; the lock is
 * held briefly, never around a call out.
 */
final class Tally<T> {

  /** What became of a claim; each claim gets exactly one. */
  enum Outcome {
    COMPLETED,
    FAILED,
    RETRIED,
    GIVEN_BACK,
    LEASE_LOST,
    ABANDONED
  }

  private final Set<Held<T>> held = ConcurrentHashMap.newKeySet();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition heldChanged = lock.newCondition();
  // Guarded by lock.
  private long claimed;
  private final long[] outcomes = new long[Outcome.values().length];
  private final LongAdder reclaimed = new LongAdder();
  private final LongAdder storeErrors = new LongAdder();

  /** The claim loop claimed {@code batch}: held from now on. */
  void claimed(List<Held<T>> batch) {
    lock.lock();
    try {
      claimed += batch.size();
      held.addAll(batch);
    } finally {
      lock.unlock();
    }
  }

  /** Counts what became of a held claim, once: a claim no longer held was counted already. */
  void settled(Held<T> h, Outcome outcome) {
    lock.lock();
    try {
      if (held.remove(h)) {
        outcomes[outcome.ordinal()]++;
        if (held.isEmpty()) {
          heldChanged.signalAll();
        }
      }
    } finally {
      lock.unlock();
    }
  }

  boolean holds(Held<T> h) {
    return held.contains(h);
  }

  boolean holdsNone() {
    return held.isEmpty();
  }

  /** The claims held now. */
  List<Held<T>> heldNow() {
    return new ArrayList<>(held);
  }

  /** The held claims whose renewal was not refused, for the heartbeat. */
  List<Held<T>> renewable() {
    List<Held<T>> snapshot = new ArrayList<>(held.size());
    for (Held<T> h : held) {
      if (!h.renewRefused) {
        snapshot.add(h);
      }
    }
    return snapshot;
  }

  /** Waits up to {@code nanos}, less if the last held claim is settled meanwhile. */
  void awaitNoneHeld(long nanos) throws InterruptedException {
    lock.lockInterruptibly();
    try {
      heldChanged.await(nanos, TimeUnit.NANOSECONDS);
    } finally {
      lock.unlock();
    }
  }

  void storeError() {
    storeErrors.increment();
  }

  long storeErrors() {
    return storeErrors.sum();
  }

  void reclaimed(int n) {
    reclaimed.add(n);
  }

  ClaimWorkersStatus status(boolean running, int concurrency, int active) {
    lock.lock();
    try {
      return new ClaimWorkersStatus(
          running,
          concurrency,
          active,
          held.size(),
          claimed,
          outcomes[Outcome.COMPLETED.ordinal()],
          outcomes[Outcome.FAILED.ordinal()],
          outcomes[Outcome.RETRIED.ordinal()],
          outcomes[Outcome.LEASE_LOST.ordinal()],
          reclaimed.sum(),
          outcomes[Outcome.GIVEN_BACK.ordinal()],
          outcomes[Outcome.ABANDONED.ordinal()],
          storeErrors.sum());
    } finally {
      lock.unlock();
    }
  }
}
