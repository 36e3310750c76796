package dev.fanout;

import dev.fanout.internal.LoggingProgressListener;
import dev.fanout.internal.NoProgress;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Told how a fan-out advances, once per delivered result, on the thread that delivered it.
 *
 * <p>Calls for one fan-out come one at a time and in order: {@link Progress#done()} goes 1, 2, ...
 * up to the total, so the last call is the complete one, and it returns before the fan-out counts
 * as finished (before {@code fanOutAndWait} returns). A listener shared by several fan-outs may be
 * called concurrently for different ones. Keep it quick and non-blocking: while it runs, other
 * workers of the same fan-out wait to report. An exception it throws is logged and otherwise
 * ignored.
 *
 * {@snippet :
 * FanOutReport<String, Integer> report = pool.fanOutAndWait(
 *     accounts, this::scan, ProgressListener.logging(Duration.ofSeconds(5)));
 * }
 */
@FunctionalInterface
public interface ProgressListener {

  /** Called after each result is delivered, with the fan-out's running totals. */
  void onProgress(Progress progress);

  /** A listener that does nothing. */
  static ProgressListener none() {
    return NoProgress.INSTANCE;
  }

  /**
   * Logs a line such as {@code progress: 120/300 done, 2 failed, 41.3/s, ETA 4.4 s} at INFO on
   * the {@code dev.fanout.progress} logger, at most once per {@code interval}, and always the
   * last line.
   *
   * @param interval the least time between two lines; {@link Duration#ZERO} logs every result
   */
  static ProgressListener logging(Duration interval) {
    return logging(LoggerFactory.getLogger("dev.fanout.progress"), interval);
  }

  /** As {@link #logging(Duration)}, on the given logger. */
  static ProgressListener logging(Logger logger, Duration interval) {
    Objects.requireNonNull(logger, "logger");
    Objects.requireNonNull(interval, "interval");
    if (interval.isNegative()) {
      throw new IllegalArgumentException("interval must not be negative, was " + interval);
    }
    return new LoggingProgressListener(logger, interval);
  }
}
