package dev.fanout;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * How far a fan-out has come, as passed to a {@link ProgressListener}.
 *
 * @param done results delivered so far
 * @param total results expected
 * @param failed how many of {@code done} are failures
 * @param elapsed time since the fan-out started
 * @param ratePerSecond results per second so far
 * @param eta estimated time to the last result at the current rate; {@code null} before the
 *     first result
 */
public record Progress(
    int done, int total, int failed, Duration elapsed, double ratePerSecond, @Nullable Duration eta) {

  /** Whether every expected result has arrived. */
  public boolean isComplete() {
    return done >= total;
  }

  static Progress of(int done, int total, int failed, long elapsedNanos) {
    Duration elapsed = Duration.ofNanos(elapsedNanos);
    double rate = elapsedNanos <= 0 ? 0.0 : done * 1e9 / elapsedNanos;
    Duration eta = null;
    if (done >= total) {
      eta = Duration.ZERO;
    } else if (done > 0) {
      eta = Duration.ofNanos((long) ((double) elapsedNanos / done * (total - done)));
    }
    return new Progress(done, total, failed, elapsed, rate, eta);
  }
}
