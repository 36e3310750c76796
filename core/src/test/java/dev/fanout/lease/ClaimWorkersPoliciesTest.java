package dev.fanout.lease;

import static java.time.Duration.ofHours;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fanout.Policies;
import dev.fanout.breaker.CircuitBreaker;
import dev.fanout.rate.RateGate;
import dev.fanout.time.FakeTime;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Handler calls through a {@link Policies} composition: gates, and a breaker that pauses claims. */
class ClaimWorkersPoliciesTest extends ClaimWorkersFixture {

  /** Counts claim calls, so a test can see the workers stop claiming. */
  private static final class CountingClaims extends ForwardingRepository<String> {
    final AtomicInteger claims = new AtomicInteger();

    CountingClaims(ClaimLeaseRepository<String> delegate) {
      super(delegate);
    }

    @Override
    public List<Claim<String>> claim(String workerId, int max, Duration lease) {
      claims.incrementAndGet();
      return delegate.claim(workerId, max, lease);
    }
  }

  @Test
  void whileTheBreakerIsOpenNothingIsClaimedAndOnceItHalfOpensTheItemsComplete() {
    FakeTime breakerTime = FakeTime.manual();
    CircuitBreaker breaker =
        CircuitBreaker.builder()
            .name("credentials-api")
            .consecutiveFailures(2)
            .openDuration(ofHours(1))
            .halfOpenCalls(1)
            .ticker(breakerTime)
            .build();
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create();
    List<String> items = IntStream.range(0, 10).mapToObj(i -> "cred-" + i).toList();
    store.addAll(items);
    CountingClaims repository = new CountingClaims(store);
    AtomicBoolean serviceDown = new AtomicBoolean(true);
    Set<String> verified = ConcurrentHashMap.newKeySet();

    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> {
                      if (serviceDown.get()) {
                        throw new IOException("verification service down");
                      }
                      verified.add(c.item());
                    })
                .policies(Policies.<String>builder().circuitBreaker(breaker).build())
                .config(fast().concurrency(2).batchSize(1).maxAttempts(100).build()));

    await().atMost(ofSeconds(10)).until(() -> breaker.state() == CircuitBreaker.State.OPEN);
    int claimsWhenOpen = repository.claims.get();
    await()
        .during(Duration.ofMillis(300))
        .atMost(ofSeconds(2))
        .until(() -> repository.claims.get() <= claimsWhenOpen + 2); // at most the ones under way
    int failedAttempts = (int) workers.status().retried();
    assertThat(failedAttempts).as("only the calls that opened it failed").isBetween(2, 4);

    serviceDown.set(false);
    breakerTime.advance(ofHours(1).toNanos());

    await().atMost(ofSeconds(10)).until(() -> verified.size() == items.size());
    await().atMost(ofSeconds(10)).until(() -> workers.status().completed() == items.size());
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(workers.status().failed()).isZero();
  }

  @Test
  void everyHandlerCallPassesTheCompositionsGate() {
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create();
    store.addAll(List.of("a", "b", "c"));
    AtomicInteger passed = new AtomicInteger();
    RateGate counting =
        new RateGate() {
          @Override
          public void acquire() {
            passed.incrementAndGet();
          }

          @Override
          public boolean tryAcquire(Duration timeout) {
            acquire();
            return true;
          }

          @Override
          public boolean tryAcquire() {
            acquire();
            return true;
          }
        };
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(store, (Claim<String> c) -> {})
                .policies(Policies.<String>builder().rateGate(counting).build())
                .config(fast().concurrency(1).build()));

    await().atMost(ofSeconds(10)).until(() -> workers.status().completed() == 3);
    assertThat(passed).hasValue(3);
  }
}
