package dev.fanout.bulkhead;

import dev.fanout.internal.BulkheadMeters;
import dev.fanout.internal.Names;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Bounds how many calls run at once: a fair {@link Semaphore} with a name, a bounded wait, meters
 * and a guard against releasing more than was acquired. Where a {@link dev.fanout.rate.RateGate}
 * bounds how many calls <em>start per unit of time</em>, a bulkhead bounds how many are
 * <em>inside at once</em>, so one slow dependency cannot hold every worker.
 *
 * {@snippet :
 * Bulkhead bulkhead = Bulkhead.of(8);                  // refuses at once when 8 are inside
 * String page = bulkhead.call(() -> client.fetch(uri)); // BulkheadFullException when full
 * }
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li><b>Bounded</b>: at no time do more than {@link #maxConcurrent()} acquired permits exist.
 *       {@link #release()} without a matching acquisition throws {@link IllegalStateException}
 *       instead of raising the bound.
 *   <li><b>Fair (FIFO)</b>: callers waiting in {@link #acquire()} are served in arrival order,
 *       and a newcomer, {@link #tryAcquire()} included, does not take a permit ahead of them.
 *   <li><b>Bounded wait</b>: {@link #acquire()} waits at most {@link #maxWait()} (by default
 *       not at all) and then throws {@link BulkheadFullException}, having taken nothing.
 *   <li><b>Interruptible</b>: {@link #acquire()} throws {@link InterruptedException} when the
 *       thread is interrupted before or while waiting, having taken nothing.
 *   <li><b>Virtual-thread friendly</b>: waiting is a {@code java.util.concurrent} semaphore, which
 *       unmounts a virtual thread; no {@code synchronized}.
 * </ul>
 *
 * <p>Memory consistency: as for {@link Semaphore}, actions before a {@link #release()}
 * happen-before those after an acquisition that takes that permit.
 */
public final class Bulkhead {
  private final String name;
  private final int maxConcurrent;
  private final Duration maxWait;
  private final long maxWaitNanos;
  private final Semaphore permits;
  private final AtomicInteger held = new AtomicInteger();
  private final @Nullable BulkheadMeters meters;

  private Bulkhead(Builder b) {
    this.name = b.name;
    this.maxConcurrent = b.maxConcurrent;
    this.maxWait = b.maxWait;
    this.maxWaitNanos = saturatedNanos(b.maxWait);
    this.permits = new Semaphore(b.maxConcurrent, true);
    this.meters =
        b.registry == null
            ? null
            : new BulkheadMeters(b.registry, name, maxConcurrent, permits::availablePermits);
  }

  /**
   * A bulkhead of {@code maxConcurrent} permits that refuses at once when full.
   *
   * @throws IllegalArgumentException if {@code maxConcurrent < 1}
   */
  public static Bulkhead of(int maxConcurrent) {
    return builder().maxConcurrent(maxConcurrent).build();
  }

  /** A builder; {@link Builder#maxConcurrent} must be set. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Takes a permit if one is free now and nobody is waiting for one; never waits. Keeps the
   * thread's interrupt status as it is.
   */
  public boolean tryAcquire() {
    boolean taken;
    if (Thread.currentThread().isInterrupted()) {
      // The timed form would throw; this one must not. Same fairness, checked by hand.
      taken = !permits.hasQueuedThreads() && permits.tryAcquire();
    } else {
      try {
        taken = permits.tryAcquire(0, TimeUnit.NANOSECONDS); // unlike tryAcquire(), honours FIFO
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        taken = false;
      }
    }
    return taken ? acquired() : refused();
  }

  /**
   * Takes a permit, waiting up to {@link #maxWait()} in arrival order.
   *
   * @throws BulkheadFullException if no permit came within {@link #maxWait()}
   * @throws InterruptedException if interrupted before or while waiting
   */
  public void acquire() throws InterruptedException {
    if (!permits.tryAcquire(maxWaitNanos, TimeUnit.NANOSECONDS)) {
      refused();
      throw new BulkheadFullException(name, maxConcurrent, maxWait);
    }
    acquired();
  }

  /**
   * Gives back a permit taken by {@link #tryAcquire()} or {@link #acquire()}; any thread may give
   * it back.
   *
   * @throws IllegalStateException if no permit is held
   */
  public void release() {
    int h;
    do {
      h = held.get();
      if (h == 0) {
        throw new IllegalStateException(
            "bulkhead '" + name + "': release() without a matching acquire()");
      }
    } while (!held.compareAndSet(h, h - 1));
    permits.release();
  }

  /**
   * Calls {@code task} holding a permit, waiting for one as {@link #acquire()} does, and gives it
   * back however the task ends.
   *
   * @return the task's value
   * @throws BulkheadFullException if no permit came within {@link #maxWait()}; the task was not
   *     called
   * @throws InterruptedException if interrupted while waiting for a permit
   * @throws Exception what the task threw, unchanged
   */
  public <T extends @Nullable Object> T call(Callable<? extends T> task) throws Exception {
    Objects.requireNonNull(task, "task must not be null");
    acquire();
    try {
      return task.call();
    } finally {
      release();
    }
  }

  /** Permits free now. */
  public int available() {
    return permits.availablePermits();
  }

  /** The most calls inside at once. */
  public int maxConcurrent() {
    return maxConcurrent;
  }

  /** How long {@link #acquire()} waits for a permit; {@link Duration#ZERO} means not at all. */
  public Duration maxWait() {
    return maxWait;
  }

  /** The name, for meters and messages. */
  public String name() {
    return name;
  }

  @Override
  public String toString() {
    return "Bulkhead[name="
        + name
        + ", maxConcurrent="
        + maxConcurrent
        + ", available="
        + available()
        + "]";
  }

  private boolean acquired() {
    held.incrementAndGet();
    return true;
  }

  private boolean refused() {
    if (meters != null) {
      meters.rejected();
    }
    return false;
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  /** Builds a {@link Bulkhead}. Not thread-safe. */
  public static final class Builder {
    private String name = "default";
    private int maxConcurrent; // 0 = not set
    private Duration maxWait = Duration.ZERO;
    private @Nullable MeterRegistry registry;

    private Builder() {}

    /** The name for the {@code name} meter tag and messages; {@code default} unless set. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name must not be null");
      this.name = Names.nonBlank(name);
      return this;
    }

    /**
     * The most calls inside at once; required.
     *
     * @throws IllegalArgumentException if {@code maxConcurrent < 1}
     */
    public Builder maxConcurrent(int maxConcurrent) {
      if (maxConcurrent < 1) {
        throw new IllegalArgumentException(
            "maxConcurrent must be at least 1, was " + maxConcurrent);
      }
      this.maxConcurrent = maxConcurrent;
      return this;
    }

    /**
     * How long {@link Bulkhead#acquire()} waits for a permit; {@link Duration#ZERO} (the default)
     * refuses at once.
     *
     * @throws IllegalArgumentException if {@code maxWait} is negative
     */
    public Builder maxWait(Duration maxWait) {
      Objects.requireNonNull(maxWait, "maxWait must not be null (Duration.ZERO means none)");
      if (maxWait.isNegative()) {
        throw new IllegalArgumentException("maxWait must not be negative, was " + maxWait);
      }
      this.maxWait = maxWait;
      return this;
    }

    /**
     * Publishes {@code fanout.bulkhead.available} and {@code fanout.bulkhead.max} (gauges) and
     * {@code fanout.bulkhead.rejections} (counter), tagged {@code name}, to {@code registry}.
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry must not be null");
      return this;
    }

    /**
     * Builds the bulkhead.
     *
     * @throws IllegalStateException if {@link #maxConcurrent} was not set
     */
    public Bulkhead build() {
      if (maxConcurrent == 0) {
        throw new IllegalStateException("maxConcurrent not set: call maxConcurrent(n) before build()");
      }
      return new Bulkhead(this);
    }
  }
}
