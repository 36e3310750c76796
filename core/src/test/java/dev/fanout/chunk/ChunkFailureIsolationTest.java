package dev.fanout.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryPolicy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** A batch that fails for good is split until the events that really fail are found. */
class ChunkFailureIsolationTest {

  /** An event: {@code id} is shared by duplicates; {@code seq} is its place in the input. */
  record Event(String id, int seq) {}

  private static final RetryPolicy FAST_RETRY =
      RetryPolicy.builder().maxAttempts(3).backoff(Backoff.none()).build();

  /** What a store throws for an event it can never take, such as a value too long for a column. */
  static final class PoisonException extends Exception {
    PoisonException(String id) {
      super("value too long for column payload, event " + id);
    }
  }

  /**
   * A store that refuses, as a whole, any batch holding a poison event (a transaction rolled back);
   * it counts the writes it was asked for.
   */
  static final class PoisonSink implements IdempotentSink<Event> {
    final InMemoryIdempotentSink<Event, String> store = new InMemoryIdempotentSink<>(Event::id);
    final List<Integer> writeSizes = new CopyOnWriteArrayList<>();
    private final Predicate<Event> poison;
    private final boolean transientFailures;

    PoisonSink(Predicate<Event> poison, boolean transientFailures) {
      this.poison = poison;
      this.transientFailures = transientFailures;
    }

    @Override
    public int write(List<Event> batch) throws PoisonException {
      writeSizes.add(batch.size());
      for (Event e : batch) {
        if (poison.test(e)) {
          throw new PoisonException(e.id());
        }
      }
      return store.write(batch);
    }

    @Override
    public boolean isTransient(Throwable failure) {
      return transientFailures || !(failure instanceof PoisonException);
    }

    long writesOfSize(int size) {
      return writeSizes.stream().filter(s -> s == size).count();
    }
  }

  private static List<List<Event>> chunks(List<Integer> ids, int chunkSize) {
    List<List<Event>> chunks = new ArrayList<>();
    List<Event> chunk = new ArrayList<>();
    int seq = 0;
    for (int id : ids) {
      chunk.add(new Event("evt-" + id, seq++));
      if (chunk.size() == chunkSize) {
        chunks.add(chunk);
        chunk = new ArrayList<>();
      }
    }
    if (!chunk.isEmpty()) {
      chunks.add(chunk);
    }
    return chunks;
  }

  private static List<Integer> range(int from, int to) {
    return IntStream.range(from, to).boxed().toList();
  }

  private static Set<String> idsOf(List<Integer> ids) {
    return ids.stream().map(i -> "evt-" + i).collect(Collectors.toSet());
  }

  @Test
  void onePoisonEventFailsAloneAndEveryOtherEventOfItsBatchIsStored() throws Exception {
    PoisonSink sink = new PoisonSink(e -> e.id().equals("evt-50"), true);
    List<Integer> ids = range(0, 126);

    ChunkReport<String> report =
        ChunkProcessor.builder(Event::id, sink)
            .partitions(4)
            .retryPolicy(FAST_RETRY)
            .build()
            .process(chunks(ids, 42));

    Set<String> expected = idsOf(ids);
    expected.remove("evt-50");
    assertThat(sink.store.contents().keySet()).isEqualTo(expected);
    assertThat(report.failures()).containsOnlyKeys("evt-50");
    assertThat(report.failures().get("evt-50"))
        .isInstanceOf(PoisonException.class)
        .hasMessage("value too long for column payload, event evt-50");
    assertThat(report.failed()).isEqualTo(1);
    assertThat(report.inserted()).isEqualTo(125);
  }

  @Test
  void anIdThatFailsInOneChunkButIsWrittenByALaterCopyIsNotAFailure() throws Exception {
    // The first copy of evt-5 (chunk 0) cannot be stored; the copy in chunk 2 can.
    PoisonSink sink = new PoisonSink(e -> e.id().equals("evt-5") && e.seq() < 10, true);
    List<Integer> ids = new ArrayList<>(range(0, 20));
    ids.add(5);
    ids.addAll(range(20, 29));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();

    ChunkReport<String> report =
        ChunkProcessor.builder(Event::id, sink)
            .partitions(3)
            .retryPolicy(FAST_RETRY)
            .meterRegistry(registry)
            .build()
            .process(chunks(ids, 10));

    assertThat(sink.store.contents().keySet()).isEqualTo(idsOf(range(0, 29)));
    assertThat(report.failures()).isEmpty();
    assertThat(report.failed()).isZero();
    assertThat(report.inserted()).isEqualTo(29);
    assertThat(report.duplicatesInInput()).isEqualTo(1); // the copy that failed
    assertThat(report.partitions().stream().mapToLong(ChunkReport.PartitionStats::failed).sum())
        .isZero();
    assertThat(registry.get("fanout.chunk.events").tags("outcome", "failed").counter().count())
        .isZero();
    assertThat(registry.get("fanout.chunk.events").tags("outcome", "inserted").counter().count())
        .isEqualTo(29.0);
  }

  @Test
  void isolatingOnePoisonEventInABatchOf64CostsTwoWritesPerHalving() throws Exception {
    PoisonSink sink = new PoisonSink(e -> e.id().equals("evt-37"), true);
    List<Integer> ids = range(0, 64);

    ChunkReport<String> report =
        ChunkProcessor.builder(Event::id, sink)
            .partitions(1)
            .retryPolicy(FAST_RETRY)
            .build()
            .process(chunks(ids, 64));

    // Three attempts of the whole batch (the policy's), then halves of 32, 16, 8, 4, 2, 1: two
    // writes each, tried once, no backoff.
    assertThat(sink.writesOfSize(64)).isEqualTo(3);
    assertThat(sink.writeSizes).hasSize(3 + 2 * 6);
    ChunkReport.PartitionStats stats = report.partitions().get(0);
    assertThat(stats.isolationWrites()).isEqualTo(12);
    assertThat(stats.retries()).isEqualTo(2);
    assertThat(stats.batches()).isEqualTo(1);
    assertThat(report.failures()).containsOnlyKeys("evt-37");
    // The events that were written reached the sink in input order.
    assertThat(sink.store.writeOrder().stream().map(Event::seq).toList())
        .isSorted()
        .hasSize(63);
  }

  @Test
  void aNonTransientFailureIsNotRetriedButSplitAtOnce() throws Exception {
    PoisonSink sink = new PoisonSink(e -> e.id().equals("evt-37"), false);

    ChunkReport<String> report =
        ChunkProcessor.builder(Event::id, sink)
            .partitions(1)
            .retryPolicy(FAST_RETRY)
            .build()
            .process(chunks(range(0, 64), 64));

    assertThat(sink.writesOfSize(64)).isEqualTo(1);
    assertThat(sink.writeSizes).hasSize(1 + 2 * 6);
    assertThat(report.partitions().get(0).retries()).isZero();
    assertThat(report.failures()).containsOnlyKeys("evt-37");
    assertThat(report.failures().get("evt-37")).isInstanceOf(PoisonException.class);
    assertThat(sink.store.size()).isEqualTo(63);
  }

  @Test
  void aNonTransientFailureIsNotRetriedEvenByAPolicyThatRetriesEveryThrowable() throws Exception {
    PoisonSink sink = new PoisonSink(e -> e.id().equals("evt-3"), false);
    RetryPolicy retryAll =
        RetryPolicy.builder().maxAttempts(5).backoff(Backoff.none()).retryOn(e -> true).build();

    ChunkReport<String> report =
        ChunkProcessor.builder(Event::id, sink)
            .partitions(1)
            .retryPolicy(retryAll)
            .build()
            .process(chunks(range(0, 8), 8));

    // Depth first: [0-3] fails, [0-1] is written, [2-3] fails, 2 is written, 3 fails, then [4-7].
    assertThat(sink.writeSizes).containsExactly(8, 4, 2, 2, 1, 1, 4);
    assertThat(report.partitions().get(0).retries()).isZero();
    assertThat(report.failures()).containsOnlyKeys("evt-3");
  }

  @Test
  void aTransientFailureIsStillRetriedUnderThePolicy() throws Exception {
    List<Integer> calls = new CopyOnWriteArrayList<>();
    InMemoryIdempotentSink<Event, String> store = new InMemoryIdempotentSink<>(Event::id);
    IdempotentSink<Event> flaky =
        new IdempotentSink<>() {
          @Override
          public int write(List<Event> batch) throws Exception {
            calls.add(batch.size());
            if (calls.size() == 1) {
              throw new java.io.IOException("connection reset");
            }
            return store.write(batch);
          }

          @Override
          public boolean isTransient(Throwable failure) {
            return failure instanceof java.io.IOException;
          }
        };

    ChunkReport<String> report =
        ChunkProcessor.builder(Event::id, flaky)
            .partitions(1)
            .retryPolicy(FAST_RETRY)
            .build()
            .process(chunks(range(0, 10), 10));

    assertThat(calls).containsExactly(10, 10);
    assertThat(report.partitions().get(0).retries()).isEqualTo(1);
    assertThat(report.failed()).isZero();
    assertThat(report.partitions().get(0).isolationWrites()).isZero();
    assertThat(store.size()).isEqualTo(10);
  }

  @Test
  void metersCountOnlyTheEventsThatReallyFailed() throws Exception {
    PoisonSink sink = new PoisonSink(e -> e.id().equals("evt-3"), false);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();

    ChunkReport<String> report =
        ChunkProcessor.builder(Event::id, sink)
            .partitions(2)
            .retryPolicy(FAST_RETRY)
            .name("ingest")
            .meterRegistry(registry)
            .build()
            .process(chunks(range(0, 40), 20));

    assertThat(report.failed()).isEqualTo(1);
    assertThat(registry.get("fanout.chunk.events").tags("name", "ingest", "outcome", "failed").counter().count())
        .isEqualTo(1.0);
    assertThat(registry.get("fanout.chunk.events").tags("outcome", "inserted").counter().count())
        .isEqualTo(39.0);
    assertThat(registry.get("fanout.chunk.batch.duration").tags("outcome", "failure").timer().count())
        .isEqualTo(1);
    assertThat(registry.get("fanout.chunk.batch.duration").tags("outcome", "success").timer().count())
        .isEqualTo(report.partitions().stream().mapToInt(ChunkReport.PartitionStats::batches).sum() - 1);
  }

  @Property(tries = 200)
  void everyEventButThePoisonedIsStoredAndOnlyThePoisonedAreReportedFailed(
      @ForAll @Size(max = 300) List<@IntRange(min = 0, max = 100) Integer> ids,
      @ForAll @Size(max = 12) Set<@IntRange(min = 0, max = 100) Integer> poison,
      @ForAll @IntRange(min = 1, max = 8) int partitions,
      @ForAll @IntRange(min = 1, max = 60) int chunkSize,
      @ForAll boolean transientFailures)
      throws Exception {
    Set<String> poisonIds = idsOf(List.copyOf(poison));
    PoisonSink sink = new PoisonSink(e -> poisonIds.contains(e.id()), transientFailures);

    ChunkReport<String> report =
        ChunkProcessor.builder(Event::id, sink)
            .partitions(partitions)
            .retryPolicy(FAST_RETRY)
            .build()
            .process(chunks(ids, chunkSize));

    Set<String> all = idsOf(ids);
    Set<String> good = new HashSet<>(all);
    good.removeAll(poisonIds);
    Set<String> failedIds = new HashSet<>(all);
    failedIds.retainAll(poisonIds);
    assertThat(sink.store.contents().keySet()).isEqualTo(good);
    assertThat(report.failures().keySet()).isEqualTo(failedIds);
    assertThat(report.failed()).isEqualTo(ids.stream().filter(poison::contains).count());
    assertThat(report.inserted()).isEqualTo(good.size());
    assertThat(report.duplicatesInInput())
        .isEqualTo(ids.stream().filter(i -> !poison.contains(i)).count() - good.size());
    // The whole batch is retried only while its failure is transient.
    if (!transientFailures) {
      assertThat(report.partitions().stream().mapToInt(ChunkReport.PartitionStats::retries).sum())
          .isZero();
    }
  }

  @Property(tries = 100)
  void isolationCostsAtMostTwoWritesPerFailingEventPerHalving(
      @ForAll @IntRange(min = 1, max = 300) int n,
      @ForAll @Size(max = 20) Set<@IntRange(min = 0, max = 299) Integer> poisonPositions) {
    Set<String> poisonIds =
        poisonPositions.stream().filter(p -> p < n).map(p -> "evt-" + p).collect(Collectors.toSet());
    PoisonSink sink = new PoisonSink(e -> poisonIds.contains(e.id()), false);

    ChunkReport<String> report;
    try {
      report =
          ChunkProcessor.builder(Event::id, sink)
              .partitions(1)
              .retryPolicy(FAST_RETRY)
              .build()
              .process(chunks(range(0, n), n));
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }

    int k = poisonIds.size();
    int halvings = 32 - Integer.numberOfLeadingZeros(n - 1); // ceil(log2 n)
    long isolationWrites = report.partitions().get(0).isolationWrites();
    assertThat(isolationWrites).isLessThanOrEqualTo(2L * k * halvings);
    assertThat(isolationWrites).isLessThanOrEqualTo(2L * (n - 1));
    assertThat(sink.writeSizes).hasSize((int) isolationWrites + 1);
    assertThat(report.failures().keySet()).isEqualTo(poisonIds);
    assertThat(sink.store.size()).isEqualTo(n - k);
  }
}
