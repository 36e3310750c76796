package dev.fanout;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Per-fan-out settings that may differ from the pool's {@link ParallelConfig}: the failure mode,
 * the overall deadline, a progress listener, the result channel's capacity and the {@linkplain
 * FanOutJoin join} (first success, quorum, a predicate).
 *
 * {@snippet :
 * ResultChannel<String, Cluster> results = pool.fanOut(regions, this::listClusters,
 *     FanOutOptions.of(pool.config())
 *         .withFailureMode(FailureMode.FAIL_FAST)
 *         .withProgress(ProgressListener.logging(Duration.ofSeconds(2))));
 * }
 *
 * @param failureMode whether the first failure cancels the rest
 * @param deadline when, counted from the fan-out's start, unfinished keys are cancelled;
 *     {@code null} for none
 * @param progress told of every delivered result
 * @param resultCapacity how many undelivered results the channel buffers before the workers that
 *     produce more wait for the consumer; 0 picks {@code min(keys, }{@value #DEFAULT_CAPACITY}{@code )}
 * @param join when the fan-out is done before every key has run (first success, a quorum, a
 *     predicate); {@link FanOutJoin#all()} unless set
 */
public record FanOutOptions(
    FailureMode failureMode,
    @Nullable Duration deadline,
    ProgressListener progress,
    int resultCapacity,
    FanOutJoin join) {

  /** The largest default result buffer. */
  public static final int DEFAULT_CAPACITY = 1024;

  /** Validates the fields. */
  public FanOutOptions {
    Objects.requireNonNull(failureMode, "failureMode must not be null");
    Objects.requireNonNull(progress, "progress must not be null");
    Objects.requireNonNull(join, "join must not be null");
    if (deadline != null && (deadline.isNegative() || deadline.isZero())) {
      throw new IllegalArgumentException(
          "deadline must be positive (or null for none), was " + deadline);
    }
    if (resultCapacity < 0) {
      throw new IllegalArgumentException(
          "resultCapacity must not be negative (0 for the default), was " + resultCapacity);
    }
  }

  /** Options that join every key ({@link FanOutJoin#all()}). */
  public FanOutOptions(
      FailureMode failureMode,
      @Nullable Duration deadline,
      ProgressListener progress,
      int resultCapacity) {
    this(failureMode, deadline, progress, resultCapacity, FanOutJoin.all());
  }

  /**
   * The config's failure mode and timeout, no progress listener, the default capacity, every key
   * joined.
   */
  public static FanOutOptions of(ParallelConfig config) {
    return new FanOutOptions(config.failureMode(), config.timeout(), ProgressListener.none(), 0);
  }

  /** A copy with another failure mode. */
  public FanOutOptions withFailureMode(FailureMode mode) {
    return new FanOutOptions(mode, deadline, progress, resultCapacity, join);
  }

  /** A copy with another deadline ({@code null} for none). */
  public FanOutOptions withDeadline(@Nullable Duration newDeadline) {
    return new FanOutOptions(failureMode, newDeadline, progress, resultCapacity, join);
  }

  /** A copy with another progress listener. */
  public FanOutOptions withProgress(ProgressListener listener) {
    return new FanOutOptions(failureMode, deadline, listener, resultCapacity, join);
  }

  /** A copy with another result capacity. */
  public FanOutOptions withResultCapacity(int capacity) {
    return new FanOutOptions(failureMode, deadline, progress, capacity, join);
  }

  /** A copy with another join: when the fan-out is done before every key has run. */
  public FanOutOptions withJoin(FanOutJoin newJoin) {
    return new FanOutOptions(failureMode, deadline, progress, resultCapacity, newJoin);
  }

  int capacityFor(int keys) {
    return resultCapacity > 0 ? resultCapacity : Math.max(1, Math.min(keys, DEFAULT_CAPACITY));
  }
}
