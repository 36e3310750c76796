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
 *   <tr><th>preset</th><th>concurrency</th><th>timeout</th><th>rateSpacing</th><th>maxAttempts</th></tr>
 *   <tr><td>{@link #defaults()}</td><td>10</td><td>5 min</td><td>100 ms</td><td>4 (3 retries)</td></tr>
 *   <tr><td>{@link #conservative()}</td><td>5</td><td>10 min</td><td>500 ms</td><td>6 (5 retries)</td></tr>
 *   <tr><td>{@link #aggressive()}</td><td>20</td><td>3 min</td><td>50 ms</td><td>3 (2 retries)</td></tr>
 * </table>
 *
 * <p>The words are the library's own everywhere: {@code concurrency} is how many run at once,
 * {@code maxAttempts} counts every attempt, the first included. {@code maxWorkers} and {@code
 * maxRetries} are the deprecated names of the same two settings ({@code maxRetries = maxAttempts
 * - 1}).
 *
 * {@snippet :
 * ParallelConfig config = ParallelConfig.defaults().toBuilder()
 *     .concurrency(32)
 *     .taskTimeout(Duration.ofSeconds(30))
 *     .build();
 * }
 *
 * @param concurrency the most tasks running at once, 1 to {@value #MAX_CONCURRENCY}
 * @param timeout the overall deadline of one fan-out, counted from its start: keys unfinished
 *     when it passes are cancelled and reported as such; {@code null} for none
 * @param taskTimeout the most one task may run before it is interrupted and reported as a
 *     {@link TaskTimeoutException}; {@code null} for none
 * @param rateSpacing the least time between two task starts across the pool;
 *     {@link Duration#ZERO} for no limit
 * @param maxAttempts how many times a task is tried in all, its first attempt included, 1 to
 *     {@value #MAX_ATTEMPTS}
 * @param failureMode whether one failure stops the rest of a fan-out
 * @param shutdownTimeout how long {@link WorkerPool#close()} waits for accepted work to finish
 *     before it interrupts what still runs
 */
public record ParallelConfig(
    int concurrency,
    @Nullable Duration timeout,
    @Nullable Duration taskTimeout,
    Duration rateSpacing,
    int maxAttempts,
    FailureMode failureMode,
    Duration shutdownTimeout) {

  /** The largest accepted {@code concurrency}. */
  public static final int MAX_CONCURRENCY = 1_000_000;

  /**
   * The largest accepted {@code concurrency}.
   *
   * @deprecated use {@link #MAX_CONCURRENCY}
   */
  @Deprecated(since = "0.1.0", forRemoval = true)
  public static final int MAX_WORKERS = MAX_CONCURRENCY;

  /** The largest accepted {@code maxAttempts}. */
  public static final int MAX_ATTEMPTS = 1_001;

  /**
   * The largest accepted {@code maxRetries}: {@code MAX_ATTEMPTS - 1}.
   *
   * @deprecated use {@link #MAX_ATTEMPTS}
   */
  @Deprecated(since = "0.1.0", forRemoval = true)
  public static final int MAX_RETRIES = MAX_ATTEMPTS - 1;

  private static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

  /** Validates every field; see the class documentation for the accepted values. */
  public ParallelConfig {
    if (concurrency < 1 || concurrency > MAX_CONCURRENCY) {
      throw new IllegalArgumentException(
          "concurrency must be between 1 and " + MAX_CONCURRENCY + ", was " + concurrency);
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
    if (maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS) {
      throw new IllegalArgumentException(
          "maxAttempts must be between 1 and " + MAX_ATTEMPTS + ", was " + maxAttempts);
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

  /**
   * Concurrency 10, 5 min timeout, 100 ms between starts, 4 attempts (3 retries): the recommended
   * start.
   */
  public static ParallelConfig defaults() {
    return preset(10, Duration.ofMinutes(5), Duration.ofMillis(100), 3);
  }

  /**
   * Concurrency 5, 10 min timeout, 500 ms between starts, 6 attempts (5 retries): for sensitive
   * environments.
   */
  public static ParallelConfig conservative() {
    return preset(5, Duration.ofMinutes(10), Duration.ofMillis(500), 5);
  }

  /**
   * Concurrency 20, 3 min timeout, 50 ms between starts, 3 attempts (2 retries): for maximum
   * throughput.
   */
  public static ParallelConfig aggressive() {
    return preset(20, Duration.ofMinutes(3), Duration.ofMillis(50), 2);
  }

  private static ParallelConfig preset(
      int concurrency, Duration timeout, Duration rateSpacing, int retries) {
    return new ParallelConfig(
        concurrency,
        timeout,
        null,
        rateSpacing,
        retries + 1,
        FailureMode.COLLECT_ALL,
        DEFAULT_SHUTDOWN_TIMEOUT);
  }

  /**
   * The most tasks running at once.
   *
   * @deprecated use {@link #concurrency()}, the same value
   */
  @Deprecated(since = "0.1.0", forRemoval = true)
  public int maxWorkers() {
    return concurrency;
  }

  /**
   * How many times a failed task is tried again after its first attempt: {@code maxAttempts() -
   * 1}.
   *
   * @deprecated use {@link #maxAttempts()}, which counts the first attempt too
   */
  @Deprecated(since = "0.1.0", forRemoval = true)
  public int maxRetries() {
    return maxAttempts - 1;
  }

  /**
   * The per-call policies this config stands for, as a {@link WorkerPool} built from it applies
   * them to every task: retry ({@link RetryPolicy#ofRetries(int) ofRetries(maxAttempts - 1)},
   * none when {@code maxAttempts} is 1), then a gate of {@code rateSpacing} between attempts, then
   * the {@code taskTimeout} on each attempt (when set). Each call makes a new composition with a
   * gate of its own; add to it with a {@link Policies.Builder} of your own where you need more (a
   * circuit breaker, keyed gates).
   */
  public Policies<Object> policies() {
    Policies.Builder<Object> composition =
        Policies.builder()
            .retry(maxAttempts == 1 ? RetryPolicy.none() : RetryPolicy.ofRetries(maxAttempts - 1))
            .rateGate(RateGate.spacing(rateSpacing));
    if (taskTimeout != null) {
      composition.attemptTimeout(taskTimeout);
    }
    return composition.build();
  }

  /**
   * A builder that starts from <b>no limits at all</b>, not from {@link #defaults()}: concurrency
   * 10, no timeouts, no rate spacing, one attempt (no retries), collect-all, 30 s shutdown
   * timeout. Start from a preset with {@code ParallelConfig.defaults().toBuilder()}.
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
    private int concurrency = 10;
    private @Nullable Duration timeout;
    private @Nullable Duration taskTimeout;
    private Duration rateSpacing = Duration.ZERO;
    private int maxAttempts = 1;
    private FailureMode failureMode = FailureMode.COLLECT_ALL;
    private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;

    private Builder() {}

    private Builder(ParallelConfig c) {
      concurrency = c.concurrency;
      timeout = c.timeout;
      taskTimeout = c.taskTimeout;
      rateSpacing = c.rateSpacing;
      maxAttempts = c.maxAttempts;
      failureMode = c.failureMode;
      shutdownTimeout = c.shutdownTimeout;
    }

    /** See {@link ParallelConfig#concurrency()}. */
    public Builder concurrency(int concurrency) {
      this.concurrency = concurrency;
      return this;
    }

    /**
     * The same as {@link #concurrency(int)}.
     *
     * @deprecated use {@link #concurrency(int)}
     */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public Builder maxWorkers(int maxWorkers) {
      return concurrency(maxWorkers);
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

    /** See {@link ParallelConfig#maxAttempts()}: attempts in all, the first included. */
    public Builder maxAttempts(int maxAttempts) {
      this.maxAttempts = maxAttempts;
      return this;
    }

    /**
     * {@code maxAttempts(maxRetries + 1)}: how many times a failed task is tried again after its
     * first attempt.
     *
     * @deprecated use {@link #maxAttempts(int)}, which counts the first attempt too
     * @throws IllegalArgumentException if {@code maxRetries} is not between 0 and {@code
     *     MAX_ATTEMPTS - 1}
     */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public Builder maxRetries(int maxRetries) {
      if (maxRetries < 0 || maxRetries > MAX_ATTEMPTS - 1) {
        throw new IllegalArgumentException(
            "maxRetries must be between 0 and " + (MAX_ATTEMPTS - 1) + ", was " + maxRetries);
      }
      return maxAttempts(maxRetries + 1);
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
          concurrency, timeout, taskTimeout, rateSpacing, maxAttempts, failureMode, shutdownTimeout);
    }
  }
}
