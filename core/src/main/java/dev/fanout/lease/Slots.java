package dev.fanout.lease;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * How many more claims the claim loop of a {@link ClaimWorkers} may take: {@code concurrency ×
 * batchSize} in all, each taken when an item is claimed and freed when its handler task has
 * ended (completed, released, failed, handed to the completion flusher or given back). So an
 * instance never holds more items waiting for a handler than its workers could have batched.
 */
final class Slots {
  private final int capacity;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  // Guarded by lock.
  private int free;
  private boolean closed;
  private boolean nudged;

  Slots(int capacity) {
    this.capacity = capacity;
    this.free = capacity;
  }

  /**
   * Waits until at least {@code n} slots are free.
   *
   * @return how many are free, or 0 if {@link #close()} was called first
   */
  int awaitFree(int n) throws InterruptedException {
    lock.lockInterruptibly();
    try {
      while (!closed && free < n) {
        changed.await();
      }
      return closed ? 0 : free;
    } finally {
      lock.unlock();
    }
  }

  void take(int n) {
    lock.lock();
    try {
      free -= n;
    } finally {
      lock.unlock();
    }
  }

  void release() {
    lock.lock();
    try {
      free++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Slots in use: items claimed whose handler task has not ended. */
  int inUse() {
    lock.lock();
    try {
      return capacity - free;
    } finally {
      lock.unlock();
    }
  }

  /** Waits up to {@code nanos} until at most {@code n} slots are in use; true if they are. */
  boolean awaitInUseAtMost(int n, long nanos) throws InterruptedException {
    lock.lockInterruptibly();
    try {
      long left = nanos;
      while (capacity - free > n) {
        if (left <= 0) {
          return false;
        }
        left = changed.awaitNanos(left);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Ends the current or next {@link #awaitNudge} wait. */
  void nudge() {
    lock.lock();
    try {
      nudged = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits up to {@code nanos} for a {@link #nudge()} (one made since the last wait counts) or a
   * {@link #close()}.
   *
   * @return whether it was nudged
   */
  boolean awaitNudge(long nanos) throws InterruptedException {
    lock.lockInterruptibly();
    try {
      long left = nanos;
      while (!nudged && !closed && left > 0) {
        left = changed.awaitNanos(left);
      }
      boolean was = nudged;
      nudged = false;
      return was;
    } finally {
      lock.unlock();
    }
  }

  /** Ends every {@link #awaitFree} wait, now and later. */
  void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
