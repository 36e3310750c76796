package dev.fanout;

import dev.fanout.breaker.CircuitBreaker;
import dev.fanout.bulkhead.Bulkhead;
import dev.fanout.rate.RateGate;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryPolicy;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One policy of a {@link Policies} composition, around the rest of it ({@code next}). Sealed: the
 * composition knows every kind, and each is a small value.
 */
sealed interface Stage<K>
    permits Stage.Retry, Stage.Breaker, Stage.Isolation, Stage.Gate, Stage.KeyedGate,
        Stage.AttemptTimeout {

  /** Runs {@code next} under this policy, for {@code execution}. */
  <T extends @Nullable Object> T run(
      Policies.Execution<K> execution, Policies<K> policies, Callable<? extends T> next)
      throws Exception;

  /** Throws {@code t} as it is: an {@link Error} or an exception, checked or not. */
  static Exception rethrow(Throwable t) throws Exception {
    if (t instanceof Error e) {
      throw e;
    }
    throw (Exception) t;
  }

  /** {@link Policies.Builder#retry}. */
  record Retry(RetryPolicy policy) implements Stage<Object> {
    @Override
    public <T extends @Nullable Object> T run(
        Policies.Execution<Object> execution, Policies<Object> policies, Callable<? extends T> next)
        throws Exception {
      if (!execution.detailed && execution.listener == null) {
        return policy.call(next); // the value or the last error, as they are
      }
      Outcome<T> outcome =
          execution.listener == null
              ? policy.execute(next)
              : policy.execute(next, execution.listener);
      execution.recordRetry(outcome);
      return switch (outcome) {
        case Outcome.Success<T> s -> s.value();
        case Outcome.Failure<T> f -> {
          if (f.error() instanceof InterruptedException) {
            Thread.interrupted(); // execute() set it again; the exception carries it on
          }
          throw rethrow(f.error());
        }
      };
    }

    @Override
    public String toString() {
      return "retry(" + policy.name() + ", " + policy.maxAttempts() + " attempts)";
    }
  }

  /** {@link Policies.Builder#circuitBreaker}. */
  record Breaker(CircuitBreaker breaker) implements Stage<Object> {
    @Override
    public <T extends @Nullable Object> T run(
        Policies.Execution<Object> execution, Policies<Object> policies, Callable<? extends T> next)
        throws Exception {
      return breaker.call(next);
    }

    @Override
    public String toString() {
      return "circuitBreaker(" + breaker.name() + ")";
    }
  }

  /** {@link Policies.Builder#bulkhead}. */
  record Isolation(Bulkhead bulkhead) implements Stage<Object> {
    @Override
    public <T extends @Nullable Object> T run(
        Policies.Execution<Object> execution, Policies<Object> policies, Callable<? extends T> next)
        throws Exception {
      return bulkhead.call(next);
    }

    @Override
    public String toString() {
      return "bulkhead(" + bulkhead.name() + ", " + bulkhead.maxConcurrent() + ")";
    }
  }

  /** {@link Policies.Builder#rateGate}. */
  record Gate(RateGate gate) implements Stage<Object> {
    @Override
    public <T extends @Nullable Object> T run(
        Policies.Execution<Object> execution, Policies<Object> policies, Callable<? extends T> next)
        throws Exception {
      gate.acquire();
      return next.call();
    }

    @Override
    public String toString() {
      return "rateGate(" + gate + ")";
    }
  }

  /** {@link Policies.Builder#rateGates}. */
  record KeyedGate<K>(Function<? super K, ? extends RateGate> gateForKey) implements Stage<K> {
    @Override
    public <T extends @Nullable Object> T run(
        Policies.Execution<K> execution, Policies<K> policies, Callable<? extends T> next)
        throws Exception {
      gateForKey.apply(execution.key).acquire();
      return next.call();
    }

    @Override
    public String toString() {
      return "rateGates(per key)";
    }
  }

  /**
   * {@link Policies.Builder#attemptTimeout}: a timer interrupts the attempt's thread when the
   * timeout passes; the attempt fails with {@link TaskTimeoutException} if the timer fired or the
   * ticker says it ran too long.
   */
  record AttemptTimeout(Duration timeout) implements Stage<Object> {
    @Override
    public <T extends @Nullable Object> T run(
        Policies.Execution<Object> execution, Policies<Object> policies, Callable<? extends T> next)
        throws Exception {
      long limit = timeout.toNanos();
      Interrupter interrupter = new Interrupter(Thread.currentThread());
      ScheduledFuture<?> scheduled = execution.schedule(interrupter, limit);
      long started = policies.ticker().read();
      T value;
      try {
        value = next.call();
      } catch (Exception e) {
        if (interrupter.end(execution) | policies.ticker().read() - started > limit) {
          TaskTimeoutException timedOut = new TaskTimeoutException(execution.key, timeout);
          timedOut.addSuppressed(e);
          throw timedOut;
        }
        throw e;
      } finally {
        if (scheduled != null) {
          scheduled.cancel(false);
        }
      }
      // The timer may have been starved (a busy machine): the clock decides as well, so an attempt
      // that overran is never reported as a success.
      if (interrupter.end(execution) | policies.ticker().read() - started > limit) {
        throw new TaskTimeoutException(execution.key, timeout);
      }
      return value;
    }

    @Override
    public String toString() {
      return "attemptTimeout(" + timeout + ")";
    }
  }

  /**
   * Interrupts one attempt's thread when its time is up, and never after the attempt ended: the
   * attempt's end waits for an interrupt under way, then clears it (unless the whole call was
   * cancelled, whose interrupt must stand).
   */
  final class Interrupter implements Runnable {
    private static final int RUNNING = 0;
    private static final int FIRING = 1;
    private static final int FIRED = 2;
    private static final int ENDED = 3;

    private final Thread thread;
    private final AtomicInteger state = new AtomicInteger(RUNNING);

    Interrupter(Thread thread) {
      this.thread = thread;
    }

    @Override
    public void run() {
      if (state.compareAndSet(RUNNING, FIRING)) {
        thread.interrupt();
        state.set(FIRED);
      }
    }

    /** Ends the attempt; returns whether the timeout fired. */
    boolean end(Policies.Execution<?> execution) {
      if (state.compareAndSet(RUNNING, ENDED)) {
        return false;
      }
      while (state.get() == FIRING) {
        Thread.onSpinWait(); // the timer is between its two steps: a few instructions
      }
      if (state.get() == FIRED && !execution.cancelled()) {
        Thread.interrupted();
      }
      return true;
    }
  }

  /**
   * The timer of attempt timeouts outside a worker pool: one daemon platform thread, started when
   * a timeout is first scheduled and ended after a second without any.
   */
  final class SharedTimer {
    private static final Logger log = LoggerFactory.getLogger(Policies.class);
    private static final ScheduledThreadPoolExecutor TIMER = create();

    private SharedTimer() {}

    private static ScheduledThreadPoolExecutor create() {
      ScheduledThreadPoolExecutor timer =
          new ScheduledThreadPoolExecutor(
              1, Thread.ofPlatform().daemon().name("fanout-timer-", 0).factory());
      timer.setRemoveOnCancelPolicy(true);
      timer.setKeepAliveTime(1, TimeUnit.SECONDS);
      timer.allowCoreThreadTimeOut(true);
      return timer;
    }

    static ScheduledFuture<?> schedule(Runnable action, long delayNanos) {
      return TIMER.schedule(
          () -> {
            try {
              action.run();
            } catch (RuntimeException e) {
              log.error("attempt timer action failed", e);
            }
          },
          delayNanos,
          TimeUnit.NANOSECONDS);
    }
  }
}
