package dev.fanout.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.FanOutReport;
import dev.fanout.ParallelConfig;
import dev.fanout.Policies;
import dev.fanout.WorkerPool;
import dev.fanout.breaker.CircuitBreaker;
import dev.fanout.rate.KeyedRateGates;
import dev.fanout.rate.RateGate;
import dev.fanout.retry.RetryPolicy;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The composition example of docs/retry-and-rate.md ("Composition order"), compiled and run. */
class PoliciesExamplesTest {
  private final List<String> accounts = List.of("111122223333", "444455556666");

  private List<String> listClusters(String account) {
    return List.of("cluster-of-" + account);
  }

  @Test
  void compositionExample() throws Exception {
    CircuitBreaker breaker = CircuitBreaker.builder().name("eks").consecutiveFailures(5).build();
    KeyedRateGates<String> gates = KeyedRateGates.create(account -> RateGate.spacing(Duration.ofMillis(100)));
    Policies<String> policies = Policies.<String>builder()
        .retry(RetryPolicy.ofRetries(3))          // retries what the others let through
        .circuitBreaker(breaker)                  // each attempt asks the breaker
        .rateGates(gates)                         // each attempt waits for its account's gate
        .attemptTimeout(Duration.ofSeconds(30))   // bounds the call, not the wait for the gate
        .build();

    List<String> clusters = policies.call("111122223333", () -> listClusters("111122223333"));

    FanOutReport<String, List<String>> report;
    try (WorkerPool pool = WorkerPool.builder(ParallelConfig.defaults()).policies(policies).build()) {
      report = pool.fanOutAndWait(accounts, account -> listClusters(account));
    }
    assertThat(clusters).containsExactly("cluster-of-111122223333");
    assertThat(report.succeeded()).isEqualTo(2);
    assertThat(gates.size()).isEqualTo(2);
  }
}
