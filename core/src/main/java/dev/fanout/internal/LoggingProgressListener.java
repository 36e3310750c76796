package dev.fanout.internal;

import dev.fanout.Progress;
import dev.fanout.ProgressListener;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/** {@link ProgressListener#logging(Logger, Duration)}: one line per interval, and the last one. */
public final class LoggingProgressListener implements ProgressListener {
  private final Logger logger;
  private final long intervalNanos;
  private final AtomicLong lastLoggedNanos = new AtomicLong(Long.MIN_VALUE);

  public LoggingProgressListener(Logger logger, Duration interval) {
    this.logger = logger;
    this.intervalNanos = interval.toNanos();
  }

  @Override
  public void onProgress(Progress progress) {
    if (!logger.isInfoEnabled()) {
      return;
    }
    long now = System.nanoTime();
    long last = lastLoggedNanos.get();
    boolean due = last == Long.MIN_VALUE || now - last >= intervalNanos;
    if (progress.isComplete() || (due && lastLoggedNanos.compareAndSet(last, now))) {
      logger.info(format(progress));
    }
  }

  static String format(Progress p) {
    String eta = p.eta() == null ? "?" : seconds(p.eta());
    return String.format(
        Locale.ROOT,
        "progress: %d/%d done, %d failed, %.1f/s, ETA %s",
        p.done(),
        p.total(),
        p.failed(),
        p.ratePerSecond(),
        eta);
  }

  /** One decimal of seconds, as the summary lines print durations. */
  public static String seconds(Duration d) {
    return String.format(Locale.ROOT, "%.1f s", d.toNanos() / 1e9);
  }
}
