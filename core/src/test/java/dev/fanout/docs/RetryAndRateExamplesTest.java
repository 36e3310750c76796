package dev.fanout.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.ParallelConfig;
import dev.fanout.rate.AdaptiveRateGate;
import dev.fanout.rate.KeyedRateGates;
import dev.fanout.rate.RateGate;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.Jitter;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryBudget;
import dev.fanout.retry.RetryListener;
import dev.fanout.retry.RetryPolicy;
import dev.fanout.retry.ThrottledException;
import dev.fanout.time.FakeTime;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The examples of docs/retry-and-rate.md, compiled and run (on a fake clock). */
class RetryAndRateExamplesTest {
  private static final Logger log = LoggerFactory.getLogger(RetryAndRateExamplesTest.class);
  private final FakeTime time = FakeTime.autoAdvancing();

  record ApiKey(String account, String region, String service) {}

  /** Stands in for an SDK exception that knows whether it is throttling. */
  static final class ServiceException extends IOException {
    final int status;

    ServiceException(int status) {
      super("HTTP " + status);
      this.status = status;
    }

    boolean isThrottlingException() {
      return status == 429;
    }

    Optional<Duration> retryAfter() {
      return status == 429 ? Optional.of(Duration.ofSeconds(2)) : Optional.empty();
    }
  }

  @Test
  void theCliMapsOntoAGateAndAPolicy() throws Exception {
    ParallelConfig config = ParallelConfig.defaults();
    RateGate gate = RateGate.spacing(config.rateSpacing());
    RetryPolicy policy = RetryPolicy.ofRetries(config.maxAttempts() - 1);
    assertThat(gate.toString()).contains("perSecond=10.0");
    assertThat(policy.maxAttempts()).isEqualTo(4);
    assertThat(RateGate.spacing(ParallelConfig.builder().build().rateSpacing()))
        .isSameAs(RateGate.unlimited());
  }

  @Test
  void aPolicyForAnAwsLikeApi() throws Exception {
    RetryBudget sharedBudget = RetryBudget.builder().name("aws").build();
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(4)
            .backoff(
                Backoff.exponential(Duration.ofSeconds(1), 2.0, Duration.ofSeconds(30))
                    .withJitter(Jitter.EQUAL))
            .retryOn(e -> e instanceof IOException)
            .throttledWhen(e -> e instanceof ServiceException s && s.isThrottlingException())
            .retryAfter(e -> e instanceof ServiceException s ? s.retryAfter() : Optional.empty())
            .maxThrottles(10)
            .maxElapsedTime(Duration.ofMinutes(2))
            .budget(sharedBudget)
            .listener(RetryListener.logging(log))
            .meterRegistry(new SimpleMeterRegistry())
            .ticker(time)
            .sleeper(time)
            .build();

    AtomicInteger calls = new AtomicInteger();
    List<String> clusters =
        policy.call(
            () -> {
              switch (calls.incrementAndGet()) {
                case 1, 2, 3 -> throw new ServiceException(429);
                case 4 -> throw new ServiceException(503);
                default -> {
                  return List.of("prod", "staging");
                }
              }
            });
    assertThat(clusters).containsExactly("prod", "staging");
    assertThat(time.waits()).startsWith(Duration.ofSeconds(2)); // the server's hint

    String line =
        switch (policy.execute(() -> List.of("dev"))) {
          case Outcome.Success<List<String>>(var value, var attempts, var throttles, var cutHints) ->
              value.size() + " clusters after " + attempts + " attempt(s)";
          case Outcome.Failure<List<String>> f ->
              "gave up (" + f.reason() + ") after " + f.attempts() + " attempt(s)";
        };
    assertThat(line).isEqualTo("1 clusters after 1 attempt(s)");
  }

  @Test
  void perKeyAdaptiveGatesInsideTheRetriedCall() throws Exception {
    KeyedRateGates<ApiKey> gates =
        KeyedRateGates.create(
            key ->
                AdaptiveRateGate.builder()
                    .initialRate(10)
                    .floor(1)
                    .ceiling(20)
                    .ticker(time)
                    .sleeper(time)
                    .build());
    Function<ApiKey, RateGate> perKey = gates::gate; // what a worker pool takes
    RetryPolicy policy =
        RetryPolicy.builder()
            .throttledWhen(e -> e instanceof ThrottledException)
            .ticker(time)
            .sleeper(time)
            .build();
    ApiKey key = new ApiKey("123456789012", "eu-west-1", "eks");
    AtomicInteger calls = new AtomicInteger();

    String result =
        policy.call(
            () -> {
              AdaptiveRateGate gate = (AdaptiveRateGate) perKey.apply(key);
              gate.acquire();
              try {
                if (calls.incrementAndGet() == 1) {
                  throw new ThrottledException("429 from eks");
                }
                gate.onSuccess();
                return "clusters";
              } catch (ThrottledException e) {
                gate.onThrottle();
                throw e;
              }
            });
    assertThat(result).isEqualTo("clusters");
    assertThat(((AdaptiveRateGate) gates.gate(key)).rate()).isBetween(5.0, 6.0);
  }
}
