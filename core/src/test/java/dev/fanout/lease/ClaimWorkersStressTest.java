package dev.fanout.lease;

import static java.time.Duration.ZERO;
import static java.time.Duration.ofMillis;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many workers, random failures, several runners on one store: every item ends completed or failed
 * exactly once, and every counter adds up exactly.
 */
class ClaimWorkersStressTest {

  @ParameterizedTest(name = "completion batch {0}")
  @ValueSource(ints = {1, 32})
  void everyItemEndsExactlyOnceAndTheCountsAddUp(int completionBatch) {
    int n = 3000;
    InMemoryClaimLeaseRepository<Integer> repository = InMemoryClaimLeaseRepository.create();
    repository.addAll(IntStream.range(0, n).boxed().toList());
    Map<Integer, AtomicInteger> calls = new ConcurrentHashMap<>();
    Map<Integer, AtomicInteger> successes = new ConcurrentHashMap<>();
    ClaimHandler<Integer> handler =
        claim -> {
          calls.computeIfAbsent(claim.item(), k -> new AtomicInteger()).incrementAndGet();
          ThreadLocalRandom random = ThreadLocalRandom.current();
          if (random.nextInt(5) == 0) {
            throw new IllegalStateException("unlucky");
          }
          if (random.nextInt(50) == 0) {
            Thread.yield();
          }
          successes.computeIfAbsent(claim.item(), k -> new AtomicInteger()).incrementAndGet();
        };
    ClaimWorkersConfig config =
        ClaimWorkersConfig.builder()
            .concurrency(8)
            .batchSize(7)
            .pollInterval(ofMillis(2))
            .maxPollInterval(ofMillis(10))
            .maxAttempts(3)
            .retryDelay(ZERO, ZERO)
            .completionBatching(completionBatch, ofMillis(2))
            .build();
    // Three runners, as three service instances would be.
    List<ClaimWorkers<Integer>> runners =
        IntStream.range(0, 3)
            .mapToObj(
                i ->
                    ClaimWorkers.builder(repository, handler)
                        .name("stress-" + i)
                        .config(config)
                        .build())
            .toList();
    runners.forEach(ClaimWorkers::start);
    try {
      await().atMost(ofSeconds(60)).until(() -> repository.counts().settled());
    } finally {
      runners.forEach(r -> assertThat(r.stop()).isTrue());
    }

    LeaseCounts counts = repository.counts();
    long completed = runners.stream().mapToLong(r -> r.status().completed()).sum();
    long failed = runners.stream().mapToLong(r -> r.status().failed()).sum();
    long retried = runners.stream().mapToLong(r -> r.status().retried()).sum();
    long claimed = runners.stream().mapToLong(r -> r.status().claimed()).sum();
    long handlerCalls = calls.values().stream().mapToLong(AtomicInteger::get).sum();
    long failedCalls =
        handlerCalls - successes.values().stream().mapToLong(AtomicInteger::get).sum();

    assertThat(counts.total()).isEqualTo(n);
    assertThat(counts.completed()).isEqualTo(completed);
    assertThat(counts.failed()).isEqualTo(failed);
    assertThat(completed + failed).isEqualTo(n);
    assertThat(successes.values()).allMatch(s -> s.get() == 1, "no item succeeded twice");
    assertThat(successes).hasSize((int) completed);
    assertThat(calls.values())
        .allMatch(c -> c.get() <= 3, "no item ran more than maxAttempts times");
    assertThat(failedCalls).isEqualTo(retried + failed);
    assertThat(claimed).isEqualTo(handlerCalls);
    assertThat(runners)
        .allSatisfy(
            r -> {
              assertThat(r.status().leaseLost()).isZero();
              assertThat(r.status().held()).isZero();
            });
  }
}
