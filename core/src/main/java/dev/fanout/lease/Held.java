package dev.fanout.lease;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/** A claim a worker holds until it is settled; the heartbeat renews it meanwhile. */
final class Held<T> {
  final Claim<T> claim;
  volatile boolean renewRefused;
  /** Set before the call that ends the claim (or its hand-over to the flusher). */
  volatile boolean settling;

  /** Whoever sets it first deals with the claim: its handler task, or a stop that gives it back. */
  private final AtomicBoolean taken = new AtomicBoolean();

  private final ReentrantLock runLock = new ReentrantLock();
  // Guarded by runLock: the thread running the handler on this claim, while it runs.
  private @Nullable Thread runner;

  Held(Claim<T> claim) {
    this.claim = claim;
  }

  /** True for the one caller that is to run or give back this claim. */
  boolean take() {
    return taken.compareAndSet(false, true);
  }

  boolean isTaken() {
    return taken.get();
  }

  /** Before the handler runs: false if the lease is already known to be lost. */
  boolean beginRun() {
    runLock.lock();
    try {
      if (claim.isLeaseLost()) {
        return false;
      }
      runner = Thread.currentThread();
      return true;
    } finally {
      runLock.unlock();
    }
  }

  void endRun() {
    runLock.lock();
    try {
      runner = null;
    } finally {
      runLock.unlock();
    }
  }

  /**
   * Marks the claim lease lost and interrupts its handler if it is running; under the run lock, so
   * that a handler that has returned is never interrupted.
   *
   * @return whether a running handler was interrupted
   */
  boolean leaseLost() {
    claim.markLeaseLost("the renewal of its lease was refused");
    runLock.lock();
    try {
      Thread t = runner;
      if (t != null) {
        t.interrupt();
        return true;
      }
      return false;
    } finally {
      runLock.unlock();
    }
  }
}
