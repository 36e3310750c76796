package dev.fanout.aws;

import dev.fanout.rate.KeyedRateGates;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryPolicy;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import software.amazon.awssdk.core.exception.SdkServiceException;

/**
 * The one path every AWS call takes: the retry policy around attempts, each attempt through the
 * rate gate of its scope, throttling responses turned into {@link AwsThrottledException}. The SDK
 * client underneath does not retry (see {@link AwsClients}), so one attempt is one HTTP request.
 */
final class CallRunner {
  private final RetryPolicy policy;
  private final KeyedRateGates<ThrottleScope> gates;
  private final LongAdder calls = new LongAdder();
  private final LongAdder attempts = new LongAdder();
  private final LongAdder throttles = new LongAdder();

  CallRunner(RetryPolicy policy, KeyedRateGates<ThrottleScope> gates) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.gates = Objects.requireNonNull(gates, "gates");
  }

  /**
   * Makes one API call.
   *
   * @throws AwsCallException if the policy gave up; the cause is the last error
   * @throws InterruptedException if interrupted while waiting for the gate or a retry
   */
  <T> T call(ThrottleScope scope, String operation, Supplier<? extends T> sdkCall)
      throws InterruptedException {
    calls.increment();
    Outcome<T> outcome = policy.execute(() -> attempt(scope, operation, sdkCall));
    attempts.add(outcome.attempts());
    throttles.add(outcome.throttles());
    return switch (outcome) {
      case Outcome.Success<T> success -> success.value();
      case Outcome.Failure<T> failure -> {
        if (failure.reason() == Outcome.Reason.INTERRUPTED) {
          Thread.interrupted(); // execute() set it again; it travels as the exception instead
          InterruptedException interrupted =
              new InterruptedException(
                  scope.service() + " " + operation + " in " + scope + " was interrupted");
          interrupted.initCause(failure.error());
          throw interrupted;
        }
        throw new AwsCallException(
            scope,
            operation,
            failure.reason(),
            failure.attempts(),
            failure.throttles(),
            failure.error());
      }
    };
  }

  private <T> T attempt(ThrottleScope scope, String operation, Supplier<? extends T> sdkCall)
      throws InterruptedException, AwsThrottledException {
    gates.acquire(scope);
    try {
      return sdkCall.get();
    } catch (SdkServiceException e) {
      if (AwsErrors.isThrottlingServiceError(e)) {
        throw new AwsThrottledException(
            scope, operation, AwsErrors.retryAfter(e).orElse(null), e);
      }
      throw e;
    }
  }

  CallStats stats() {
    return new CallStats(calls.sum(), attempts.sum(), throttles.sum());
  }
}
