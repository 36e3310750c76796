package dev.fanout.retry;

import dev.fanout.internal.Durations;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;

/**
 * Told of each retry before its wait begins, on the calling thread. Keep it quick: it runs inside
 * the call. Exceptions it throws are logged and otherwise ignored.
 *
 * {@snippet :
 * RetryPolicy policy = RetryPolicy.builder()
 *     .listener(RetryListener.logging(log)) // "Retry 1/3 after 1s: java.io.IOException: reset"
 *     .build();
 * }
 */
@FunctionalInterface
public interface RetryListener {

  /** A retry is about to wait {@link RetryEvent#delay()} and then call the task again. */
  void onRetry(RetryEvent event);

  /**
   * A listener that logs each retry at INFO, one line per retry:
   * {@code Retry 1/3 after 1s: <error>}, or {@code Throttled, retry 1/10 after 2.5s: <error>};
   * a cut server hint shows as {@code after 1m (server asked 3h, capped)}.
   */
  static RetryListener logging(Logger logger) {
    Objects.requireNonNull(logger, "logger must not be null");
    return event -> {
      if (logger.isInfoEnabled()) {
        String why =
            event.error() != null
                ? String.valueOf(event.error())
                : "result " + event.result() + " asked for a retry";
        Duration cut = event.cutHint();
        logger.info(
            "{}etry {}/{} after {}{}: {}",
            event.throttled() ? "Throttled, r" : "R",
            event.retry(),
            event.maxRetries(),
            Durations.format(event.delay()),
            cut == null ? "" : " (server asked " + Durations.format(cut) + ", capped)",
            why);
      }
    };
  }
}
