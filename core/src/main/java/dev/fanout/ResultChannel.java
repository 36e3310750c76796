package dev.fanout;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CancellationException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.jspecify.annotations.Nullable;

/**
 * A bounded, typed channel of {@link Result}s that knows how many to expect: Go's
 * {@code chan Result} made safe. Producers {@link #send} (blocking while the channel is full,
 * which slows them to the consumer's pace); one consumer takes results in completion order by
 * iterating, by {@link #stream()}, by {@link #poll(Duration)}, or all at once with
 * {@link #awaitReport()}. Iteration ends by itself once the expected number of results has been
 * taken, so there is no "close the channel when all producers are done" to get wrong.
 *
 * <p>{@link #close()} ends the channel early: the consumer's iteration stops, buffered results
 * are dropped, later sends are refused, and, for a channel returned by
 * {@link WorkerPool#fanOut}, the fan-out's remaining keys are cancelled.
 *
 * <p>Each result is delivered to the consumer exactly once. Memory consistency: actions of a
 * producer before it sends a result happen-before the consumer receives that result.
 *
 * {@snippet :
 * try (ResultChannel<String, Integer> results = pool.fanOut(accounts, this::countClusters)) {
 *   for (Result<String, Integer> r : results) {
 *     switch (r) {
 *       case Result.Success<String, Integer> s -> total += s.value();
 *       case Result.Failure<String, Integer> f -> log.warn("{}: {}", f.key(), f.error().toString());
 *     }
 *   }
 * }
 * }
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class ResultChannel<K, V> implements Iterable<Result<K, V>>, AutoCloseable {

  private final int expected;
  private final int capacity;
  private final long startNanos;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notEmpty = lock.newCondition();
  private final Condition notFull = lock.newCondition();
  private final ArrayDeque<Result<K, V>> buffer = new ArrayDeque<>();
  private @Nullable Runnable onClose;
  private int sent;
  private int taken;
  private boolean closed;
  private long lastResultNanos;

  private ResultChannel(int expected, int capacity, long startNanos) {
    this.expected = expected;
    this.capacity = capacity;
    this.startNanos = startNanos;
    this.lastResultNanos = startNanos;
  }

  /**
   * A channel for {@code expected} results that buffers at most {@code capacity} of them.
   *
   * @throws IllegalArgumentException if {@code expected < 0} or {@code capacity < 1}
   */
  public static <K, V> ResultChannel<K, V> create(int expected, int capacity) {
    if (expected < 0) {
      throw new IllegalArgumentException("expected must not be negative, was " + expected);
    }
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
    }
    return new ResultChannel<>(expected, capacity, System.nanoTime());
  }

  /** Sets what {@link #close()} does besides ending the channel (the pool cancels the rest). */
  void onClose(Runnable action) {
    lock.lock();
    try {
      onClose = action;
    } finally {
      lock.unlock();
    }
  }

  /** How many results this channel expects in all. */
  public int expected() {
    return expected;
  }

  /**
   * Sends a result, waiting while the channel is full.
   *
   * @return {@code true} if it was accepted, {@code false} if the channel was closed
   * @throws IllegalStateException if more results are sent than expected
   * @throws InterruptedException if interrupted while waiting for room (the result was not sent)
   */
  public boolean send(Result<K, V> result) throws InterruptedException {
    Objects.requireNonNull(result, "result");
    lock.lockInterruptibly();
    try {
      while (!closed && buffer.size() >= capacity) {
        notFull.await();
      }
      return enqueue(result);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Delivers a result from the pool. With {@code mayWait} it waits for room like {@link #send};
   * without, or if interrupted while waiting, it goes past the capacity (the overshoot is bounded
   * by {@link #expected()}), so a result is never lost to a cancellation.
   */
  void deliver(Result<K, V> result, boolean mayWait) {
    lock.lock();
    try {
      boolean interrupted = false;
      while (mayWait && !interrupted && !closed && buffer.size() >= capacity) {
        try {
          notFull.await();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      enqueue(result);
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    } finally {
      lock.unlock();
    }
  }

  private boolean enqueue(Result<K, V> result) {
    if (closed) {
      return false;
    }
    if (sent >= expected) {
      throw new IllegalStateException(
          "channel expects " + expected + " results, got one more for key " + result.key());
    }
    sent++;
    buffer.addLast(result);
    lastResultNanos = System.nanoTime();
    notEmpty.signal();
    return true;
  }

  /**
   * Takes the next result, waiting up to {@code timeout}.
   *
   * @return the result, or {@code null} if none arrived in time or the channel is
   *     {@link #isDone() done}
   * @throws InterruptedException if interrupted while waiting
   */
  public @Nullable Result<K, V> poll(Duration timeout) throws InterruptedException {
    long nanos = timeout.toNanos();
    lock.lockInterruptibly();
    try {
      while (buffer.isEmpty()) {
        if (closed || taken >= expected || nanos <= 0) {
          return null;
        }
        nanos = notEmpty.awaitNanos(nanos);
      }
      return take();
    } finally {
      lock.unlock();
    }
  }

  private @Nullable Result<K, V> awaitNext() throws InterruptedException {
    lock.lockInterruptibly();
    try {
      while (buffer.isEmpty()) {
        if (closed || taken >= expected) {
          return null;
        }
        notEmpty.await();
      }
      return take();
    } finally {
      lock.unlock();
    }
  }

  private Result<K, V> take() {
    Result<K, V> result = buffer.removeFirst();
    taken++;
    notFull.signal();
    return result;
  }

  /** Whether the consumer has taken every expected result, or the channel was closed. */
  public boolean isDone() {
    lock.lock();
    try {
      return closed || taken >= expected;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Takes every result not yet taken, waiting for all of them, and reports them. Call it instead
   * of iterating: results taken earlier are not in the report (they count as
   * {@link FanOutReport#missing()}).
   *
   * @throws InterruptedException if interrupted while waiting
   */
  public FanOutReport<K, V> awaitReport() throws InterruptedException {
    List<Result<K, V>> results = new ArrayList<>();
    for (Result<K, V> r = awaitNext(); r != null; r = awaitNext()) {
      results.add(r);
    }
    return report(results);
  }

  /**
   * As {@link #awaitReport()}, but gives up waiting after {@code timeout}: the report then has
   * the results that arrived in time, and the rest count as missing. The channel stays open.
   *
   * @throws InterruptedException if interrupted while waiting
   */
  public FanOutReport<K, V> awaitReport(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Result<K, V>> results = new ArrayList<>();
    for (Result<K, V> r = poll(timeout); r != null; ) {
      results.add(r);
      r = poll(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }
    return report(results);
  }

  private FanOutReport<K, V> report(List<Result<K, V>> results) {
    long end;
    lock.lock();
    try {
      end = lastResultNanos;
    } finally {
      lock.unlock();
    }
    return FanOutReport.of(results, expected, Duration.ofNanos(end - startNanos));
  }

  /**
   * Results in completion order, blocking for each; ends when all expected results were taken
   * or the channel was closed. If the consuming thread is interrupted while it waits, the
   * iterator throws a {@link CancellationException} and the thread keeps its interrupt status.
   */
  @Override
  public Iterator<Result<K, V>> iterator() {
    return new Iterator<>() {
      private @Nullable Result<K, V> next;

      @Override
      public boolean hasNext() {
        if (next == null) {
          try {
            next = awaitNext();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            CancellationException ce =
                new CancellationException("interrupted while waiting for the next result");
            ce.initCause(e);
            throw ce;
          }
        }
        return next != null;
      }

      @Override
      public Result<K, V> next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        Result<K, V> result = next;
        next = null;
        return result;
      }
    };
  }

  /** A sequential stream over {@link #iterator()}. */
  public Stream<Result<K, V>> stream() {
    return StreamSupport.stream(
        Spliterators.spliterator(iterator(), expected, Spliterator.ORDERED | Spliterator.NONNULL),
        false);
  }

  /**
   * Ends the channel early: iteration stops, buffered results are dropped, sends are refused,
   * and a pool fan-out cancels its remaining keys. Idempotent.
   */
  @Override
  public void close() {
    Runnable action;
    boolean unfinished;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      unfinished = taken < expected;
      buffer.clear();
      notEmpty.signalAll();
      notFull.signalAll();
      action = onClose;
    } finally {
      lock.unlock();
    }
    if (action != null && unfinished) {
      action.run();
    }
  }
}
