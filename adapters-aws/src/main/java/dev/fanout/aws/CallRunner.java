package dev.fanout.aws;

import dev.fanout.ParallelConfig;
import dev.fanout.Policies;
import dev.fanout.rate.KeyedRateGates;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryPolicy;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkServiceException;

/**
 * The one path every AWS call takes: the call's {@link Policies} (the retry policy) around
 * attempts, each attempt through the rate gate of its scope, throttling responses turned into
 * {@link AwsThrottledException}. The SDK client underneath does not retry (see {@link
 * AwsClients}), so one attempt is one HTTP request. The gate is not a stage of the composition:
 * it is passed inside the SDK, just before the request is signed and sent.
 *
 * <p>Each attempt's request carries its gate (and, for another account, its credentials) in the
 * override configuration the call is handed; the client's {@link GateInterceptor} passes the gate
 * just before the request is signed and sent.
 */
final class CallRunner {
  private final Policies<ThrottleScope> policies;
  private final KeyedRateGates<ThrottleScope> gates;
  private final LongAdder calls = new LongAdder();
  private final LongAdder attempts = new LongAdder();
  private final LongAdder throttles = new LongAdder();

  CallRunner(RetryPolicy policy, KeyedRateGates<ThrottleScope> gates) {
    this.policies =
        Policies.<ThrottleScope>builder()
            .retry(Objects.requireNonNull(policy, "policy"))
            .build();
    this.gates = Objects.requireNonNull(gates, "gates");
  }

  /**
   * Makes one API call. {@code sdkCall} must put the override configuration it is given on its
   * request: it carries the gate and the credentials.
   *
   * @param credentials the account's credentials, or {@code null} for the client's own
   * @throws AwsCallException if the policy gave up; the cause is the last error
   * @throws InterruptedException if interrupted while waiting for the gate or a retry
   */
  <T> T call(
      ThrottleScope scope,
      String operation,
      @Nullable AwsCredentialsProvider credentials,
      Function<AwsRequestOverrideConfiguration, ? extends T> sdkCall)
      throws InterruptedException {
    calls.increment();
    Outcome<T> outcome =
        policies.execute(scope, () -> attempt(scope, operation, credentials, sdkCall));
    attempts.add(outcome.attempts());
    throttles.add(outcome.throttles());
    return switch (outcome) {
      case Outcome.Success<T> success -> success.value();
      case Outcome.Failure<T> failure -> {
        if (failure.reason() == Outcome.Reason.INTERRUPTED || Thread.currentThread().isInterrupted()) {
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

  private <T> T attempt(
      ThrottleScope scope,
      String operation,
      @Nullable AwsCredentialsProvider credentials,
      Function<AwsRequestOverrideConfiguration, ? extends T> sdkCall)
      throws AwsThrottledException {
    AwsRequestOverrideConfiguration.Builder override =
        AwsRequestOverrideConfiguration.builder()
            .putExecutionAttribute(GateInterceptor.GATE, gates.gate(scope));
    if (credentials != null) {
      override.credentialsProvider(credentials);
    }
    try {
      return sdkCall.apply(override.build());
    } catch (SdkServiceException e) {
      if (AwsErrors.isThrottlingServiceError(e)) {
        throw new AwsThrottledException(
            scope, operation, AwsErrors.retryAfter(e).orElse(null), e);
      }
      throw e;
    }
  }

  /**
   * The policies of a scan's tasks (one per account, region or customer): only the config's task
   * timeout, if any. Retries and gates apply to each API call inside a task instead, here.
   */
  static Policies<Object> taskPolicies(ParallelConfig config) {
    Duration taskTimeout = config.taskTimeout();
    return taskTimeout == null
        ? Policies.none()
        : Policies.builder().attemptTimeout(taskTimeout).build();
  }

  CallStats stats() {
    return new CallStats(calls.sum(), attempts.sum(), throttles.sum());
  }
}
