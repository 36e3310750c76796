package dev.fanout;

import dev.fanout.rate.RateGate;
import dev.fanout.retry.RetryPolicy;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link WorkerPool} runs fan-outs: an immutable, validated value. Build one with
 * {@link #builder()} or start from a preset; every field is checked when the record is made, and
 * a bad value fails with a message naming the field and the value.
 *
 * <p>Three presets, for a start:
 *
 * <table>
 *   <caption>Presets</caption>
 *   <tr><th>preset</th><th>maxWorkers</th><th>timeout</th><th>rateSpacing</th><th>maxRetries</th></tr>
 *   <tr><td>{@link #defaults()}</td><td>10</td><td>5 min</td><td>100 ms</td><td>3</td></tr>
 *   <tr><td>{@link #conservative()}</td><td>5</td><td>10 min</td><td>500 ms</td><td>5</td></tr>
 *   <tr><td>{@link #aggressive()}</td><td>20</td><td>3 min</td><td>50 ms</td><td>2</td></tr>
 * </table>
 *
 * {@snippet :
 * ParallelConfig config = ParallelConfig.defaults().toBuilder()
 *     .maxWorkers(32)
 *     .taskTimeout(Duration.ofSeconds(30))
 *     .build();
 * }
 *
 * @param maxWorkers the most tasks running at once, 1 to {@value #MAX_WORKERS}
 * @param timeout the overall deadline of one fan-out, counted from its start: keys unfinished
 *     when it passes are cancelled and reported as such; {@code null} for none
 * @param taskTimeout the most one task may run before it is interrupted and reported as a
 *     {@link TaskTimeoutException}; {@code null} for none
 * @param rateSpacing the least time between two task starts across the pool;
 *     {@link Duration#ZERO} for no limit
 * @param maxRetries how many times a failed task is tried again after its first attempt,
 *     0 to {@value #MAX_RETRIES}
 * @param failureMode whether one failure stops the rest of a fan-out
 * @param shutdownTimeout how long {@link WorkerPool#close()} waits for accepted work to finish
 *     before it interrupts what still runs
 */
public record ParallelConfig(
    int maxWorkers,
    @Nullable Duration timeout,
    @Nullable Duration taskTimeout,
    Duration rateSpacing,
    int maxRetries,
    FailureMode failureMode,
    Duration shutdownTimeout) {

  /** The largest accepted {@code maxWorkers}. */
  public static final int MAX_WORKERS = 1_000_000;

  /** The largest accepted {@code maxRetries}. */
  public static final int MAX_RETRIES = 1_000;

  private static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

  /** Validates every field; see the class documentation for the accepted values. */
  public ParallelConfig {
    if (maxWorkers < 1 || maxWorkers > MAX_WORKERS) {
      throw new IllegalArgumentException(
          "maxWorkers must be between 1 and " + MAX_WORKERS + ", was " + maxWorkers);
    }
    if (timeout != null) {
      requirePositive("timeout", timeout);
    }
    if (taskTimeout != null) {
      requirePositive("taskTimeout", taskTimeout);
    }
    Objects.requireNonNull(rateSpacing, "rateSpacing must not be null (Duration.ZERO means none)");
    if (rateSpacing.isNegative()) {
      throw new IllegalArgumentException("rateSpacing must not be negative, was " + rateSpacing);
    }
    if (maxRetries < 0 || maxRetries > MAX_RETRIES) {
      throw new IllegalArgumentException(
          "maxRetries must be between 0 and " + MAX_RETRIES + ", was " + maxRetries);
    }
    Objects.requireNonNull(failureMode, "failureMode must not be null");
    Objects.requireNonNull(shutdownTimeout, "shutdownTimeout must not be null");
    if (shutdownTimeout.isNegative()) {
      throw new IllegalArgumentException(
          "shutdownTimeout must not be negative, was " + shutdownTimeout);
    }
  }

  private static void requirePositive(String field, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(
          field + " must be positive (or null for none), was " + value);
    }
  }

  /** 10 workers, 5 min timeout, 100 ms between starts, 3 retries: the recommended start. */
  public static ParallelConfig defaults() {
    return preset(10, Duration.ofMinutes(5), Duration.ofMillis(100), 3);
  }

  /** 5 workers, 10 min timeout, 500 ms between starts, 5 retries: for sensitive environments. */
  public static ParallelConfig conservative() {
    return preset(5, Duration.ofMinutes(10), Duration.ofMillis(500), 5);
  }

  /** 20 workers, 3 min timeout, 50 ms between starts, 2 retries: for maximum throughput. */
  public static ParallelConfig aggressive() {
    return preset(20, Duration.ofMinutes(3), Duration.ofMillis(50), 2);
  }

  private static ParallelConfig preset(
      int maxWorkers, Duration timeout, Duration rateSpacing, int maxRetries) {
    return new ParallelConfig(
        maxWorkers,
        timeout,
        null,
        rateSpacing,
        maxRetries,
        FailureMode.COLLECT_ALL,
        DEFAULT_SHUTDOWN_TIMEOUT);
  }

  /**
   * The per-call policies this config stands for, as a {@link WorkerPool} built from it applies
   * them to every task: retry ({@link RetryPolicy#ofRetries(int)
   * ofRetries(maxRetries)}, none when 0), then a gate of {@code rateSpacing} between attempts, then
   * the {@code taskTimeout} on each attempt (when set). Each call makes a new composition with a
   * gate of its own; add to it with a {@link Policies.Builder} of your own where you need more (a
   * circuit breaker, keyed gates).
   */
  public Policies<Object> policies() {
    Policies.Builder<Object> composition =
        Policies.builder()
            .retry(
                maxRetries == 0
                    ? RetryPolicy.none()
                    : RetryPolicy.ofRetries(maxRetries))
            .rateGate(RateGate.spacing(rateSpacing));
    if (taskTimeout != null) {
      composition.attemptTimeout(taskTimeout);
    }
    return composition.build();
  }

  /**
   * A builder that starts from <b>no limits at all</b>, not from {@link #defaults()}: 10 workers,
   * no timeouts, no rate spacing, no retries, collect-all, 30 s shutdown timeout. Start from a
   * preset with {@code ParallelConfig.defaults().toBuilder()}.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this config's values. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds a {@link ParallelConfig}; {@link #build()} validates and copies. Not thread-safe. */
  public static final class Builder {
    private int maxWorkers = 10;
    private @Nullable Duration timeout;
    private @Nullable Duration taskTimeout;
    private Duration rateSpacing = Duration.ZERO;
    private int maxRetries;
    private FailureMode failureMode = FailureMode.COLLECT_ALL;
    private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;

    private Builder() {}

    private Builder(ParallelConfig c) {
      maxWorkers = c.maxWorkers;
      timeout = c.timeout;
      taskTimeout = c.taskTimeout;
      rateSpacing = c.rateSpacing;
      maxRetries = c.maxRetries;
      failureMode = c.failureMode;
      shutdownTimeout = c.shutdownTimeout;
    }

    /** See {@link ParallelConfig#maxWorkers()}. */
    public Builder maxWorkers(int maxWorkers) {
      this.maxWorkers = maxWorkers;
      return this;
    }

    /** See {@link ParallelConfig#timeout()}; {@code null} for none. */
    public Builder timeout(@Nullable Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** See {@link ParallelConfig#taskTimeout()}; {@code null} for none. */
    public Builder taskTimeout(@Nullable Duration taskTimeout) {
      this.taskTimeout = taskTimeout;
      return this;
    }

    /** See {@link ParallelConfig#rateSpacing()}; {@link Duration#ZERO} for no limit. */
    public Builder rateSpacing(Duration rateSpacing) {
      this.rateSpacing = rateSpacing;
      return this;
    }

    /** See {@link ParallelConfig#maxRetries()}. */
    public Builder maxRetries(int maxRetries) {
      this.maxRetries = maxRetries;
      return this;
    }

    /** See {@link ParallelConfig#failureMode()}. */
    public Builder failureMode(FailureMode failureMode) {
      this.failureMode = failureMode;
      return this;
    }

    /** See {@link ParallelConfig#shutdownTimeout()}. */
    public Builder shutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = shutdownTimeout;
      return this;
    }

    /** Validates and returns the config. */
    public ParallelConfig build() {
      return new ParallelConfig(
          maxWorkers, timeout, taskTimeout, rateSpacing, maxRetries, failureMode, shutdownTimeout);
    }
  }
}
