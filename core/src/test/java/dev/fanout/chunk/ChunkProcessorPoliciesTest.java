package dev.fanout.chunk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fanout.Policies;
import dev.fanout.TaskTimeoutException;
import dev.fanout.breaker.CallNotPermittedException;
import dev.fanout.breaker.CircuitBreaker;
import dev.fanout.rate.RateGate;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The lanes write through a {@link Policies} composition, keyed by partition. */
class ChunkProcessorPoliciesTest {

  record Event(String id) {}

  private static final RetryPolicy FAST_RETRY =
      RetryPolicy.builder().maxAttempts(3).backoff(Backoff.none()).build();

  private static List<List<Event>> chunks(int chunks, int size) {
    List<List<Event>> all = new ArrayList<>();
    for (int c = 0; c < chunks; c++) {
      int base = c * size;
      all.add(IntStream.range(base, base + size).mapToObj(i -> new Event("e" + i)).toList());
    }
    return all;
  }

  @Test
  void everyWriteGoesThroughThePoliciesKeyedByItsPartition() throws Exception {
    InMemoryIdempotentSink<Event, String> sink = new InMemoryIdempotentSink<>(Event::id);
    Set<Integer> keysSeen = ConcurrentHashMap.newKeySet();
    AtomicInteger gatePasses = new AtomicInteger();
    RateGate unlimited = RateGate.perSecond(1_000_000_000, 1_000_000_000);
    Policies<Integer> policies =
        Policies.<Integer>builder()
            .retry(FAST_RETRY)
            .rateGates(
                partition -> {
                  keysSeen.add(partition);
                  gatePasses.incrementAndGet();
                  return unlimited;
                })
            .build();
    ChunkProcessor<Event, String> processor =
        ChunkProcessor.builder(Event::id, sink).partitions(4).policies(policies).build();

    ChunkReport<String> report = processor.process(chunks(10, 100));

    assertThat(report.inserted()).isEqualTo(1_000);
    assertThat(sink.size()).isEqualTo(1_000);
    assertThat(keysSeen).containsExactlyInAnyOrder(0, 1, 2, 3);
    long batches = report.partitions().stream().mapToLong(ChunkReport.PartitionStats::batches).sum();
    assertThat(gatePasses.get()).isEqualTo((int) batches); // one pass per write, nothing more
  }

  @Test
  void anAttemptTimeoutEndsAHangingWriteAndTheRetryWritesTheBatchAgain() throws Exception {
    InMemoryIdempotentSink<Event, String> store = new InMemoryIdempotentSink<>(Event::id);
    AtomicInteger writes = new AtomicInteger();
    CountDownLatch never = new CountDownLatch(1);
    IdempotentSink<Event> hangsOnce =
        batch -> {
          if (writes.incrementAndGet() == 1) {
            never.await(); // a statement that never answers; the timeout interrupts it
          }
          return store.write(batch);
        };
    ChunkProcessor<Event, String> processor =
        ChunkProcessor.builder(Event::id, hangsOnce)
            .partitions(1)
            .policies(
                Policies.<Integer>builder()
                    .retry(FAST_RETRY)
                    .attemptTimeout(Duration.ofMillis(200))
                    .build())
            .build();

    ChunkReport<String> report = processor.process(chunks(3, 50));

    assertThat(report.inserted()).isEqualTo(150);
    assertThat(report.failed()).isZero();
    assertThat(writes.get()).isEqualTo(4); // the hanging write, its retry, two more chunks
    assertThat(report.partitions().get(0).retries()).isEqualTo(1);
  }

  @Test
  void aBreakerOpenedByAStoreThatIsDownRefusesLaterWritesWithoutCallingTheSink() throws Exception {
    AtomicInteger sinkCalls = new AtomicInteger();
    IdempotentSink<Event> down =
        batch -> {
          sinkCalls.incrementAndGet();
          throw new java.io.IOException("connection refused");
        };
    // Outside the retry, the breaker counts a batch's whole retry sequence as one outcome.
    CircuitBreaker breaker =
        CircuitBreaker.builder().consecutiveFailures(1).openDuration(Duration.ofMinutes(5)).build();
    ChunkProcessor<Event, String> processor =
        ChunkProcessor.builder(Event::id, down)
            .partitions(1)
            .policies(Policies.<Integer>builder().circuitBreaker(breaker).retry(FAST_RETRY).build())
            .build();

    ChunkReport<String> report = processor.process(chunks(4, 8));

    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
    // The first batch's three attempts; then the breaker answers for the store, also for the
    // halves the first batch was split into.
    assertThat(sinkCalls.get()).isEqualTo(3);
    assertThat(report.failed()).isEqualTo(32); // nothing is lost silently: every event reported
    assertThat(report.failures()).hasSize(32);
    assertThat(report.failures().values()).allMatch(e -> e instanceof CallNotPermittedException);
  }

  @Test
  void policiesAndARetryPolicyTogetherAreRefusedNamingBoth() {
    InMemoryIdempotentSink<Event, String> sink = new InMemoryIdempotentSink<>(Event::id);
    ChunkProcessor.Builder<Event, String> builder =
        ChunkProcessor.builder(Event::id, sink)
            .policies(Policies.<Integer>builder().retry(FAST_RETRY).build())
            .retryPolicy(RetryPolicy.ofRetries(2));

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("policies")
        .hasMessageContaining("retryPolicy");
  }

  @Test
  void aTimeoutThatKeepsHappeningIsIsolatedAndReportedAsTheTimeout() throws Exception {
    IdempotentSink<Event> alwaysHangs =
        batch -> {
          new CountDownLatch(1).await();
          return 0;
        };
    ChunkProcessor<Event, String> processor =
        ChunkProcessor.builder(Event::id, alwaysHangs)
            .partitions(1)
            .policies(
                Policies.<Integer>builder()
                    .retry(RetryPolicy.builder().maxAttempts(1).build())
                    .attemptTimeout(Duration.ofMillis(20))
                    .build())
            .build();

    ChunkReport<String> report = processor.process(chunks(1, 2));

    assertThat(report.failed()).isEqualTo(2);
    assertThat(report.failures().values()).allMatch(e -> e instanceof TaskTimeoutException);
  }
}
