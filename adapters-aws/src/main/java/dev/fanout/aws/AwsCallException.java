package dev.fanout.aws;

import dev.fanout.retry.Outcome;
import java.io.Serial;

/**
 * An AWS call that failed for good: its {@link dev.fanout.retry.RetryPolicy} gave up. The message
 * says which call, where, after how many attempts and why; the {@linkplain #getCause() cause} is
 * the last error as the policy reported it: the SDK's exception, an
 * {@link AwsThrottledException}, or a {@link dev.fanout.retry.RetryBudgetExhaustedException} when
 * the shared retry budget was spent.
 *
 * {@snippet :
 * for (ScanFailure failure : report.failures()) {
 *   if (failure.error() instanceof AwsCallException call
 *       && call.reason() == Outcome.Reason.BUDGET_EXHAUSTED) {
 *     log.warn("{}: gave up to protect the API: {}", call.scope(), call.getMessage());
 *   }
 * }
 * }
 */
public final class AwsCallException extends RuntimeException {
  @Serial private static final long serialVersionUID = 1L;

  private final transient ThrottleScope scope;
  private final String operation;
  private final Outcome.Reason reason;
  private final int attempts;
  private final int throttles;

  /**
   * @param scope where the call was made
   * @param operation the API operation, such as {@code AssumeRole}
   * @param reason why the policy made no further attempt
   * @param attempts how many attempts were made, throttled ones included
   * @param throttles how many of them were throttled
   * @param cause the last error
   */
  public AwsCallException(
      ThrottleScope scope,
      String operation,
      Outcome.Reason reason,
      int attempts,
      int throttles,
      Throwable cause) {
    super(message(scope, operation, reason, attempts, throttles, cause), cause);
    this.scope = scope;
    this.operation = operation;
    this.reason = reason;
    this.attempts = attempts;
    this.throttles = throttles;
  }

  private static String message(
      ThrottleScope scope,
      String operation,
      Outcome.Reason reason,
      int attempts,
      int throttles,
      Throwable cause) {
    String why =
        switch (reason) {
          case NOT_RETRYABLE -> "not retryable";
          case ATTEMPTS_EXHAUSTED -> "attempts exhausted";
          case THROTTLES_EXHAUSTED -> "still throttled after the throttling cap";
          case ELAPSED_TIME_EXCEEDED -> "retry time exhausted";
          case BUDGET_EXHAUSTED -> "retry budget exhausted";
          case INTERRUPTED -> "interrupted";
        };
    return scope.service()
        + " "
        + operation
        + " failed in "
        + scope
        + " after "
        + attempts
        + (attempts == 1 ? " attempt" : " attempts")
        + (throttles > 0 ? " (" + throttles + " throttled)" : "")
        + ", "
        + why
        + ": "
        + AwsErrors.describe(cause);
  }

  /** Where the call was made. */
  public ThrottleScope scope() {
    return scope;
  }

  /** The API operation, such as {@code ListClusters}. */
  public String operation() {
    return operation;
  }

  /** Why no further attempt was made. */
  public Outcome.Reason reason() {
    return reason;
  }

  /** How many attempts were made, throttled ones included. */
  public int attempts() {
    return attempts;
  }

  /** How many of the attempts were throttled. */
  public int throttles() {
    return throttles;
  }
}
