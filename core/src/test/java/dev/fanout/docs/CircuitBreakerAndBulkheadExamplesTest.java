package dev.fanout.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fanout.breaker.CallNotPermittedException;
import dev.fanout.breaker.CircuitBreaker;
import dev.fanout.breaker.CircuitBreakerListener;
import dev.fanout.bulkhead.Bulkhead;
import dev.fanout.bulkhead.BulkheadFullException;
import dev.fanout.time.FakeTime;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The circuit breaker and bulkhead examples of docs/retry-and-rate.md, compiled and run. */
class CircuitBreakerAndBulkheadExamplesTest {
  private static final Logger log = LoggerFactory.getLogger(CircuitBreakerAndBulkheadExamplesTest.class);
  private final FakeTime time = FakeTime.manual();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private List<String> listClusters(String account) throws IOException {
    throw new IOException("connection refused by " + account);
  }

  @Test
  void circuitBreakerExample() throws Exception {
    CircuitBreaker breaker = CircuitBreaker.builder()
        .name("eks")
        .failureRateThreshold(50, 20, 10)     // 50% of the last 20 calls, once 10 are recorded
        .consecutiveFailures(5)               // or 5 failures in a row
        .openDuration(Duration.ofSeconds(30))
        .halfOpenCalls(3)
        .listener(CircuitBreakerListener.logging(log))
        .meterRegistry(registry)
        .ticker(time)                         // tests: a fake clock
        .build();

    for (int i = 0; i < 5; i++) {
      assertThatThrownBy(() -> breaker.call(() -> listClusters("a1"))).isInstanceOf(IOException.class);
    }
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThatThrownBy(() -> breaker.call(() -> listClusters("a1"))) // not called: fail fast
        .isInstanceOfSatisfying(
            CallNotPermittedException.class,
            e -> assertThat(e.remainingOpen()).isEqualTo(Duration.ofSeconds(30)));
    time.advance(Duration.ofSeconds(30));
    for (int i = 0; i < 3; i++) {
      assertThat(breaker.call(() -> List.of("prod"))).containsExactly("prod");
    }
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void composedByHand() throws Exception {
    CircuitBreaker breaker = CircuitBreaker.ofDefaults("ses");
    Bulkhead bulkhead = Bulkhead.of(8);
    String result = "fallback";
    if (breaker.tryAcquirePermission()) {
      if (!bulkhead.tryAcquire()) {
        breaker.releasePermission();          // the call never ran: record nothing
      } else {
        try {
          result = "contacts";
          breaker.onSuccess();
        } catch (RuntimeException e) {
          breaker.onError(e);
          throw e;
        } finally {
          bulkhead.release();
        }
      }
    }
    assertThat(result).isEqualTo("contacts");
    assertThat(bulkhead.available()).isEqualTo(8);
  }

  @Test
  void bulkheadExample() throws Exception {
    Bulkhead bulkhead = Bulkhead.builder()
        .name("ses")
        .maxConcurrent(8)                     // at most 8 calls inside at once
        .maxWait(Duration.ofMillis(500))      // wait up to 500 ms for a permit, in arrival order
        .meterRegistry(registry)              // fanout.bulkhead.available (tag name=ses)
        .build();

    assertThat(bulkhead.call(() -> List.of("a@example.com"))).hasSize(1);
    Bulkhead none = Bulkhead.of(1);           // refuses at once when full
    none.acquire();
    assertThatThrownBy(() -> none.call(() -> "x")).isInstanceOf(BulkheadFullException.class);
  }
}
