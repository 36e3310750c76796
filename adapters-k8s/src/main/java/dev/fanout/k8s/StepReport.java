package dev.fanout.k8s;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What one step did in one plan run.
 *
 * @param step the step's name
 * @param status how it ended
 * @param attempts how many times its action was started (0 if it never ran)
 * @param startOffset when it started, counted from the start of the plan run ({@link
 *     Duration#ZERO} if it never ran)
 * @param elapsed how long it ran, retries and their waits included ({@link Duration#ZERO} if it
 *     never ran)
 * @param error the error it ended with ({@link java.util.concurrent.TimeoutException} for a
 *     timeout, the action's own error otherwise), or {@code null} if it has none
 */
public record StepReport(
    String step,
    StepStatus status,
    int attempts,
    Duration startOffset,
    Duration elapsed,
    @Nullable Throwable error) {

  /** Validates every component. */
  public StepReport {
    Objects.requireNonNull(step, "step must not be null");
    Objects.requireNonNull(status, "status must not be null");
    Objects.requireNonNull(startOffset, "startOffset must not be null");
    Objects.requireNonNull(elapsed, "elapsed must not be null");
    if (attempts < 0) {
      throw new IllegalArgumentException("attempts must not be negative, was " + attempts);
    }
    if (startOffset.isNegative()) {
      throw new IllegalArgumentException("startOffset must not be negative, was " + startOffset);
    }
    if (elapsed.isNegative()) {
      throw new IllegalArgumentException("elapsed must not be negative, was " + elapsed);
    }
  }

  /** When the step ended, counted from the start of the plan run. */
  public Duration endOffset() {
    return startOffset.plus(elapsed);
  }
}
