package dev.fanout.lease;

import static java.time.Duration.ofMillis;
import static java.time.Duration.ofMinutes;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fanout.retry.Backoff;
import dev.fanout.retry.Jitter;
import dev.fanout.time.FakeTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * ClaimWorkers on an injected {@link dev.fanout.time.Ticker} and {@link dev.fanout.time.Sleeper}:
 * the retries of a failing store call wait through the sleeper, with jitter drawn from a seeded
 * source, so the whole delay sequence is known in advance and no test sleeps for real.
 */
class ClaimWorkersTimeTest extends ClaimWorkersFixture {
  private static final long SEED = 20240611L;
  private static final Duration POLL = ofMillis(10);
  private static final Duration MAX_POLL = ofMillis(80);

  /** Completes fail with a transient store error the first {@code failures} times. */
  private static final class FailingCompletes extends ForwardingRepository<String> {
    final AtomicInteger left;
    final AtomicInteger calls = new AtomicInteger();

    FailingCompletes(ClaimLeaseRepository<String> delegate, int failures) {
      super(delegate);
      this.left = new AtomicInteger(failures);
    }

    @Override
    public void complete(Claim<String> claim) {
      calls.incrementAndGet();
      if (left.getAndDecrement() > 0) {
        throw new LeaseStoreException("store down", new java.io.IOException("connection reset"));
      }
      delegate.complete(claim);
    }
  }

  private ClaimWorkers.Builder<String> workers(
      ClaimLeaseRepository<String> repository, FakeTime time, Duration lease) {
    Random random = new Random(SEED);
    return ClaimWorkers.builder(repository, (Claim<String> c) -> {})
        .ticker(time)
        .sleeper(time)
        .random(() -> random)
        .config(
            fast()
                .concurrency(1)
                .pollInterval(POLL)
                .maxPollInterval(MAX_POLL)
                .leaseDuration(lease)
                .build());
  }

  /** The delays a seeded equal-jitter back-off from POLL to MAX_POLL gives, in order. */
  private static List<Long> expectedDelays(int n) {
    Backoff backoff = Backoff.exponential(POLL, 2.0, MAX_POLL).withJitter(Jitter.EQUAL);
    Random random = new Random(SEED);
    List<Long> delays = new ArrayList<>();
    long previous = 0;
    for (int retry = 1; retry <= n; retry++) {
      previous = backoff.delayNanos(retry, previous, random);
      delays.add(previous);
    }
    return delays;
  }

  @Test
  void failingCompletionIsRetriedAfterSeededJitteredDelaysOnTheInjectedSleeper() {
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create();
    store.add("item");
    FailingCompletes repository = new FailingCompletes(store, 6);
    FakeTime time = FakeTime.autoAdvancing();
    ClaimWorkers<String> workers;
    try (CapturedStderr err = new CapturedStderr()) {
      workers = start(workers(repository, time, ofMinutes(1)));
      await().atMost(ofSeconds(10)).until(() -> workers.status().completed() == 1);
      assertThat(err.text())
          .contains("could not complete item item (1 in a row), trying again in ")
          .contains("could not complete item item (6 in a row), trying again in ");
    }

    List<Long> sleeps = time.sleeps();
    assertThat(sleeps).containsExactlyElementsOf(expectedDelays(6));
    // Equal jitter: retry n waits between half and all of min(80 ms, 10 ms * 2^(n-1)).
    long[] base = {10, 20, 40, 80, 80, 80};
    for (int i = 0; i < base.length; i++) {
      assertThat(sleeps.get(i))
          .as("wait before try %d", i + 2)
          .isBetween(ofMillis(base[i]).toNanos() / 2, ofMillis(base[i]).toNanos());
    }
    assertThat(sleeps).as("jittered, not the plain doubling").doesNotContainSequence(
        ofMillis(10).toNanos(), ofMillis(20).toNanos(), ofMillis(40).toNanos());
    assertThat(repository.calls).hasValue(7);
    assertThat(workers.status().storeErrors()).isEqualTo(6);
    assertThat(store.state("item")).contains(LeaseState.COMPLETED);
    assertThat(workers.status().accountedFor()).isTrue();
  }

  @Test
  void failingCompletionIsRetriedForOneLeaseByTheInjectedTickerThenLeftToTheReaper() {
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create();
    store.add("item");
    FailingCompletes repository = new FailingCompletes(store, Integer.MAX_VALUE);
    FakeTime time = FakeTime.autoAdvancing();
    Duration lease = ofMillis(300);
    ClaimWorkers<String> workers = start(workers(repository, time, lease));

    await().atMost(ofSeconds(10)).until(() -> workers.status().abandoned() == 1);

    List<Long> sleeps = time.sleeps();
    long waited = sleeps.stream().mapToLong(Long::longValue).sum();
    // Every retry whose wait still ended within the lease was made; the next one was not.
    assertThat(sleeps).containsExactlyElementsOf(expectedDelays(sleeps.size()));
    assertThat(waited).isLessThanOrEqualTo(lease.toNanos());
    List<Long> oneMore = expectedDelays(sleeps.size() + 1);
    assertThat(waited + oneMore.get(sleeps.size())).isGreaterThan(lease.toNanos());
    assertThat(repository.calls).hasValue(sleeps.size() + 1);
    assertThat(workers.status().storeErrors()).isEqualTo(sleeps.size() + 1L);
    assertThat(store.state("item")).contains(LeaseState.CLAIMED);
  }
}
