package dev.fanout.lease;

import dev.fanout.retry.Backoff;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How {@link ClaimWorkers} run: an immutable, validated value. Build one with {@link #builder()};
 * every field is checked when the record is made, and a bad value fails with a message naming the
 * field and the value.
 *
 * <p>The defaults: 3 workers, batches of 3, a poll every second, a 1 minute lease renewed every
 * 20 s, so that a crashed worker's items come back within about a minute.
 *
 * {@snippet :
 * ClaimWorkersConfig config = ClaimWorkersConfig.builder()
 *     .concurrency(8)
 *     .batchSize(50)
 *     .leaseDuration(Duration.ofMinutes(2))
 *     .completionBatching(500, Duration.ofMillis(20))
 *     .build();
 * }
 *
 * @param concurrency how many handlers run at once (the workers of the handler pool), 1 to {@value
 *     #MAX_CONCURRENCY}
 * @param batchSize how many items an instance holds per handler, running or waiting for a worker
 *     (at most {@code concurrency × batchSize} in all), and the fewest free places the claim loop
 *     waits for before it claims again (it then claims every free place in one call); 1 to
 *     {@value #MAX_BATCH_SIZE}
 * @param pollInterval how long the claim loop waits after an empty poll before it polls again
 * @param maxPollInterval the longest wait of an idle claim loop: each empty poll doubles the wait,
 *     from {@code pollInterval} up to this (the idle back-off), each wait drawn at random between
 *     the doubled interval and twice it, at most this; the first item found resets it. Failing
 *     claims back off the same way; a failing call that starts or ends a claim is retried after
 *     exponential waits from {@code pollInterval} up to this with equal jitter (between half the
 *     doubled interval and all of it).
 * @param leaseDuration the lease of each claim, and of each renewal
 * @param heartbeatInterval how often the leases of held claims are renewed, less than {@code
 *     leaseDuration}; by default a third of it
 * @param reaperInterval how often expired leases are {@linkplain
 *     ClaimLeaseRepository#reclaimExpired() reclaimed}; {@link Duration#ZERO} for never (when
 *     something else reaps); by default half the lease
 * @param maxAttempts how many claims an item gets before it is marked failed, 1 to {@value
 *     #MAX_ATTEMPTS}: after a handler failure on the last attempt, or when an item whose leases
 *     kept expiring (a poison item that crashes its workers) is claimed once more
 * @param retryDelay how long a failed item waits before its next attempt; doubled on each further
 *     attempt
 * @param maxRetryDelay the longest such wait
 * @param completionBatchSize 1 to complete each item with its own call right after its handler
 *     returns; more to hand completions to a flusher that completes up to this many claims in
 *     one fenced call ({@link ClaimLeaseRepository#completeAll}), 1 to {@value #MAX_BATCH_SIZE}
 * @param completionFlushInterval how long a completion may wait for others to join its batch;
 *     well under the lease (at most a quarter of it); ignored when {@code completionBatchSize} is
 *     1
 * @param shutdownTimeout how long {@link ClaimWorkers#stop()} lets running handlers finish before
 *     it interrupts them
 * @param reclaimJitter the most by which the reaper delays each item it {@linkplain
 *     ClaimLeaseRepository#reclaimExpired(Duration) reclaims}, at random per item, so that the
 *     items of a crashed worker's batch do not travel together again; {@link Duration#ZERO} for
 *     none; by default the heartbeat interval
 */
public record ClaimWorkersConfig(
    int concurrency,
    int batchSize,
    Duration pollInterval,
    Duration maxPollInterval,
    Duration leaseDuration,
    Duration heartbeatInterval,
    Duration reaperInterval,
    int maxAttempts,
    Duration retryDelay,
    Duration maxRetryDelay,
    int completionBatchSize,
    Duration completionFlushInterval,
    Duration shutdownTimeout,
    Duration reclaimJitter) {

  /** The largest accepted {@code concurrency}. */
  public static final int MAX_CONCURRENCY = 10_000;

  /** The largest accepted {@code batchSize} and {@code completionBatchSize}. */
  public static final int MAX_BATCH_SIZE = 10_000;

  /** The largest accepted {@code maxAttempts}. */
  public static final int MAX_ATTEMPTS = 1_000;

  /** Validates every field; see the class documentation for the accepted values. */
  public ClaimWorkersConfig {
    requireRange("concurrency", concurrency, MAX_CONCURRENCY);
    requireRange("batchSize", batchSize, MAX_BATCH_SIZE);
    requirePositive("pollInterval", pollInterval);
    requirePositive("maxPollInterval", maxPollInterval);
    if (maxPollInterval.compareTo(pollInterval) < 0) {
      throw new IllegalArgumentException(
          "maxPollInterval must not be less than pollInterval ("
              + pollInterval
              + "), was "
              + maxPollInterval);
    }
    requirePositive("leaseDuration", leaseDuration);
    requirePositive("heartbeatInterval", heartbeatInterval);
    if (heartbeatInterval.compareTo(leaseDuration) >= 0) {
      throw new IllegalArgumentException(
          "heartbeatInterval must be less than leaseDuration ("
              + leaseDuration
              + "), was "
              + heartbeatInterval);
    }
    requireNotNegative("reaperInterval", reaperInterval);
    requireRange("maxAttempts", maxAttempts, MAX_ATTEMPTS);
    requireNotNegative("retryDelay", retryDelay);
    requireNotNegative("maxRetryDelay", maxRetryDelay);
    if (maxRetryDelay.compareTo(retryDelay) < 0) {
      throw new IllegalArgumentException(
          "maxRetryDelay must not be less than retryDelay ("
              + retryDelay
              + "), was "
              + maxRetryDelay);
    }
    requireRange("completionBatchSize", completionBatchSize, MAX_BATCH_SIZE);
    requirePositive("completionFlushInterval", completionFlushInterval);
    if (completionFlushInterval.multipliedBy(4).compareTo(leaseDuration) > 0) {
      throw new IllegalArgumentException(
          "completionFlushInterval must be at most a quarter of leaseDuration ("
              + leaseDuration
              + "), was "
              + completionFlushInterval);
    }
    requireNotNegative("shutdownTimeout", shutdownTimeout);
    requireNotNegative("reclaimJitter", reclaimJitter);
  }

  private static void requireRange(String field, int value, int max) {
    if (value < 1 || value > max) {
      throw new IllegalArgumentException(
          field + " must be between 1 and " + max + ", was " + value);
    }
  }

  private static void requirePositive(String field, Duration value) {
    Objects.requireNonNull(value, field + " must not be null");
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(field + " must be positive, was " + value);
    }
  }

  private static void requireNotNegative(String field, Duration value) {
    Objects.requireNonNull(value, field + " must not be null");
    if (value.isNegative()) {
      throw new IllegalArgumentException(field + " must not be negative, was " + value);
    }
  }

  /** The defaults; see the class documentation. */
  public static ClaimWorkersConfig defaults() {
    return builder().build();
  }

  /** A builder that starts from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this config's values. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Whether completions are flushed in batches by a flusher (completionBatchSize above 1). */
  public boolean batchesCompletions() {
    return completionBatchSize > 1;
  }

  /**
   * The wait before attempt {@code attempt + 1} after attempt {@code attempt} failed: {@code
   * retryDelay * 2^(attempt - 1)}, at most {@code maxRetryDelay}.
   */
  public Duration retryDelayAfter(int attempt) {
    Duration cap = maxRetryDelay.compareTo(Backoff.MAX_DELAY) > 0 ? Backoff.MAX_DELAY : maxRetryDelay;
    Duration initial = retryDelay.compareTo(cap) > 0 ? cap : retryDelay;
    return Duration.ofNanos(
        Backoff.exponential(initial, 2.0, cap).baseNanos(Math.max(attempt, 1)));
  }

  /**
   * Builds a {@link ClaimWorkersConfig}; {@link #build()} validates. Intervals left unset follow
   * the lease: heartbeat a third, reaper half, idle back-off up to 8 poll intervals (at most 30 s,
   * never below the poll interval). Not thread-safe.
   */
  public static final class Builder {
    private int concurrency = 3;
    private int batchSize = 3;
    private Duration pollInterval = Duration.ofSeconds(1);
    private @Nullable Duration maxPollInterval;
    private Duration leaseDuration = Duration.ofMinutes(1);
    private @Nullable Duration heartbeatInterval;
    private @Nullable Duration reaperInterval;
    private int maxAttempts = 3;
    private Duration retryDelay = Duration.ofSeconds(1);
    private Duration maxRetryDelay = Duration.ofMinutes(5);
    private int completionBatchSize = 1;
    private Duration completionFlushInterval = Duration.ofMillis(10);
    private Duration shutdownTimeout = Duration.ofSeconds(30);
    private @Nullable Duration reclaimJitter;

    private Builder() {}

    private Builder(ClaimWorkersConfig c) {
      concurrency = c.concurrency;
      batchSize = c.batchSize;
      pollInterval = c.pollInterval;
      leaseDuration = c.leaseDuration;
      // Intervals that were derived stay derived, so that a new lease or poll interval moves them.
      ClaimWorkersConfig derived =
          new Builder().pollInterval(c.pollInterval).leaseDuration(c.leaseDuration).build();
      maxPollInterval =
          c.maxPollInterval.equals(derived.maxPollInterval) ? null : c.maxPollInterval;
      heartbeatInterval =
          c.heartbeatInterval.equals(derived.heartbeatInterval) ? null : c.heartbeatInterval;
      reaperInterval = c.reaperInterval.equals(derived.reaperInterval) ? null : c.reaperInterval;
      maxAttempts = c.maxAttempts;
      retryDelay = c.retryDelay;
      maxRetryDelay = c.maxRetryDelay;
      completionBatchSize = c.completionBatchSize;
      completionFlushInterval = c.completionFlushInterval;
      shutdownTimeout = c.shutdownTimeout;
      reclaimJitter = c.reclaimJitter.equals(c.heartbeatInterval) ? null : c.reclaimJitter;
    }

    /** See {@link ClaimWorkersConfig#concurrency()}. Default 3. */
    public Builder concurrency(int concurrency) {
      this.concurrency = concurrency;
      return this;
    }

    /** See {@link ClaimWorkersConfig#batchSize()}. Default 3. */
    public Builder batchSize(int batchSize) {
      this.batchSize = batchSize;
      return this;
    }

    /** See {@link ClaimWorkersConfig#pollInterval()}. Default 1 s. */
    public Builder pollInterval(Duration pollInterval) {
      this.pollInterval = pollInterval;
      return this;
    }

    /** See {@link ClaimWorkersConfig#maxPollInterval()}. Default 8 poll intervals, at most 30 s. */
    public Builder maxPollInterval(Duration maxPollInterval) {
      this.maxPollInterval = maxPollInterval;
      return this;
    }

    /** See {@link ClaimWorkersConfig#leaseDuration()}. Default 1 min. */
    public Builder leaseDuration(Duration leaseDuration) {
      this.leaseDuration = leaseDuration;
      return this;
    }

    /** See {@link ClaimWorkersConfig#heartbeatInterval()}. Default a third of the lease. */
    public Builder heartbeatInterval(Duration heartbeatInterval) {
      this.heartbeatInterval = heartbeatInterval;
      return this;
    }

    /** See {@link ClaimWorkersConfig#reaperInterval()}. Default half the lease. */
    public Builder reaperInterval(Duration reaperInterval) {
      this.reaperInterval = reaperInterval;
      return this;
    }

    /** See {@link ClaimWorkersConfig#maxAttempts()}. Default 3. */
    public Builder maxAttempts(int maxAttempts) {
      this.maxAttempts = maxAttempts;
      return this;
    }

    /** See {@link ClaimWorkersConfig#retryDelay()} and {@link ClaimWorkersConfig#maxRetryDelay()}. */
    public Builder retryDelay(Duration retryDelay, Duration maxRetryDelay) {
      this.retryDelay = retryDelay;
      this.maxRetryDelay = maxRetryDelay;
      return this;
    }

    /**
     * See {@link ClaimWorkersConfig#completionBatchSize()} and {@link
     * ClaimWorkersConfig#completionFlushInterval()}. Default 1 (no batching).
     */
    public Builder completionBatching(int completionBatchSize, Duration completionFlushInterval) {
      this.completionBatchSize = completionBatchSize;
      this.completionFlushInterval = completionFlushInterval;
      return this;
    }

    /** See {@link ClaimWorkersConfig#shutdownTimeout()}. Default 30 s. */
    public Builder shutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = shutdownTimeout;
      return this;
    }

    /** See {@link ClaimWorkersConfig#reclaimJitter()}. Default the heartbeat interval. */
    public Builder reclaimJitter(Duration reclaimJitter) {
      this.reclaimJitter = reclaimJitter;
      return this;
    }

    /** Validates and returns the config. */
    public ClaimWorkersConfig build() {
      Duration lease = leaseDuration;
      Duration poll = pollInterval;
      Duration maxPoll = maxPollInterval;
      if (maxPoll == null && poll != null) {
        Duration eight = poll.multipliedBy(8);
        Duration thirty = Duration.ofSeconds(30);
        maxPoll = eight.compareTo(thirty) > 0 ? thirty : eight;
        if (maxPoll.compareTo(poll) < 0) {
          maxPoll = poll;
        }
      }
      Duration heartbeat =
          heartbeatInterval != null || lease == null ? heartbeatInterval : lease.dividedBy(3);
      Duration reaper =
          reaperInterval != null || lease == null ? reaperInterval : lease.dividedBy(2);
      Duration jitter = reclaimJitter != null ? reclaimJitter : heartbeat;
      return new ClaimWorkersConfig(
          concurrency,
          batchSize,
          poll,
          maxPoll,
          lease,
          heartbeat,
          reaper,
          maxAttempts,
          retryDelay,
          maxRetryDelay,
          completionBatchSize,
          completionFlushInterval,
          shutdownTimeout,
          jitter);
    }
  }
}
