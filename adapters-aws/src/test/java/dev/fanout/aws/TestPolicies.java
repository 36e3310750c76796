package dev.fanout.aws;

import dev.fanout.ParallelConfig;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryBudget;
import dev.fanout.retry.RetryPolicy;
import java.time.Duration;

/** Settings that keep tests fast: the AWS classification with millisecond backoffs. */
final class TestPolicies {
  private TestPolicies() {}

  static final ParallelConfig CONFIG =
      ParallelConfig.defaults().toBuilder()
          .rateSpacing(Duration.ZERO)
          .timeout(Duration.ofSeconds(60))
          .build();

  /** {@code retries} normal retries and 10 throttled ones, 5 ms apart, a roomy budget. */
  static RetryPolicy fast(int retries) {
    return AwsErrors.retryPolicyBuilder(CONFIG)
        .maxAttempts(retries + 1)
        .backoff(Backoff.fixed(Duration.ofMillis(5)))
        .throttleBackoff(Backoff.fixed(Duration.ofMillis(5)))
        .budget(RetryBudget.builder().name("test").build())
        .build();
  }
}
