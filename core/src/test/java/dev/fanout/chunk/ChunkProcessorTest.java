package dev.fanout.chunk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class ChunkProcessorTest {

  /** An event: {@code id} is unique per event (duplicates share it); {@code group} is its key. */
  record Event(String id, String group, int seq) {}

  private static final RetryPolicy FAST_RETRY =
      RetryPolicy.builder().maxAttempts(3).backoff(Backoff.none()).build();

  /** Builds chunks from id numbers; an id's group is fixed, so duplicates share a partition. */
  private static List<List<Event>> chunks(List<Integer> ids, int chunkSize) {
    List<List<Event>> chunks = new ArrayList<>();
    List<Event> chunk = new ArrayList<>();
    int seq = 0;
    for (int id : ids) {
      chunk.add(new Event("evt-" + id, "g" + (id % 7), seq++));
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

  @Property(tries = 200)
  void anyPartitionCountStoresExactlyTheDistinctIdsInOrderPerKey(
      @ForAll @Size(max = 400) List<@IntRange(min = 0, max = 120) Integer> ids,
      @ForAll @IntRange(min = 1, max = 16) int partitions,
      @ForAll @IntRange(min = 1, max = 50) int chunkSize,
      @ForAll @Size(max = 20) Set<@IntRange(min = 0, max = 120) Integer> prefetched)
      throws Exception {
    InMemoryIdempotentSink<Event, String> sink = new InMemoryIdempotentSink<>(Event::id);
    // Ids "already stored" by someone else, half of them known through the pre-fetch.
    List<Event> before = new ArrayList<>();
    Set<String> known = new HashSet<>();
    for (int id : prefetched) {
      before.add(new Event("evt-" + id, "g" + (id % 7), -1));
      if (id % 2 == 0) {
        known.add("evt-" + id);
      }
    }
    sink.write(before);

    ChunkReport<String> report =
        ChunkProcessor.builder(Event::id, sink)
            .partitions(partitions)
            .partitionKey(Event::group)
            .existingIds(known)
            .retryPolicy(FAST_RETRY)
            .build()
            .process(chunks(ids, chunkSize));

    Set<String> distinct = ids.stream().map(i -> "evt-" + i).collect(Collectors.toSet());
    Set<String> expected = new HashSet<>(distinct);
    expected.addAll(before.stream().map(Event::id).toList());
    assertThat(sink.contents().keySet()).isEqualTo(expected);

    assertThat(report.received()).isEqualTo(ids.size());
    assertThat(report.inserted()
            + report.duplicatesInInput()
            + report.duplicatesPrefetched()
            + report.duplicatesAtSink()
            + report.failed())
        .isEqualTo(report.received());
    Set<String> newIds = new HashSet<>(distinct);
    newIds.removeAll(before.stream().map(Event::id).toList());
    assertThat(report.inserted()).isEqualTo(newIds.size());
    assertThat(report.duplicatesInInput()).isEqualTo(ids.size() - distinct.size());
    assertThat(report.failed()).isZero();
    assertThat(report.partitions()).hasSize(partitions);
    assertThat(report.partitions().stream().mapToLong(ChunkReport.PartitionStats::received).sum())
        .isEqualTo(ids.size());

    // Per key, events reached the sink in input order.
    Map<String, Integer> lastSeq = new HashMap<>();
    for (Event e : sink.writeOrder()) {
      if (e.seq() < 0) {
        continue;
      }
      Integer previous = lastSeq.put(e.group(), e.seq());
      if (previous != null) {
        assertThat(e.seq()).as("order within group %s", e.group()).isGreaterThan(previous);
      }
    }
  }

  @Property(tries = 50)
  void oneAndEightPartitionsGiveIdenticalSinkContents(
      @ForAll @Size(max = 300) List<@IntRange(min = 0, max = 80) Integer> ids,
      @ForAll @IntRange(min = 1, max = 40) int chunkSize)
      throws Exception {
    Map<String, Event> sequential = ingest(ids, chunkSize, 1);
    Map<String, Event> partitioned = ingest(ids, chunkSize, 8);
    assertThat(partitioned).isEqualTo(sequential);
  }

  private static Map<String, Event> ingest(List<Integer> ids, int chunkSize, int partitions)
      throws Exception {
    InMemoryIdempotentSink<Event, String> sink = new InMemoryIdempotentSink<>(Event::id);
    ChunkProcessor.builder(Event::id, sink)
        .partitions(partitions)
        .retryPolicy(FAST_RETRY)
        .build()
        .process(chunks(ids, chunkSize));
    return sink.contents();
  }

  @Test
  void failingBatchesAreRetriedAndAPermanentlyFailingKeyIsReportedWhileTheRestIsWritten()
      throws Exception {
    InMemoryIdempotentSink<Event, String> store = new InMemoryIdempotentSink<>(Event::id);
    Map<String, AtomicInteger> attemptsById = new ConcurrentHashMap<>();
    IdempotentSink<Event> flaky =
        batch -> {
          for (Event e : batch) {
            int attempt = attemptsById.computeIfAbsent(e.id(), k -> new AtomicInteger()).incrementAndGet();
            if (e.id().equals("evt-13")) {
              throw new IllegalStateException("poison event " + e.id());
            }
            if (e.id().endsWith("7") && attempt == 1) {
              throw new IllegalStateException("transient failure");
            }
          }
          return store.write(batch);
        };
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      ids.add(i);
    }
    ChunkReport<String> report =
        ChunkProcessor.builder(Event::id, flaky)
            .partitions(1_00 / 25)
            .retryPolicy(FAST_RETRY)
            .build()
            .process(chunks(ids, 10));

    assertThat(report.failures()).containsKey("evt-13");
    assertThat(report.failures().get("evt-13")).hasMessage("poison event evt-13");
    // Only the poison event failed: the rest of its batch was written.
    assertThat(report.failures()).containsOnlyKeys("evt-13");
    Set<String> failedIds = report.failures().keySet();
    assertThat(report.failed()).isEqualTo(failedIds.size());
    for (int i = 0; i < 100; i++) {
      String id = "evt-" + i;
      assertThat(store.contents().containsKey(id)).as(id).isEqualTo(!failedIds.contains(id));
    }
    assertThat(store.contents()).containsKeys("evt-7", "evt-17", "evt-97"); // recovered by retry
    assertThat(report.partitions().stream().mapToInt(ChunkReport.PartitionStats::retries).sum())
        .isPositive();
    assertThat(report.inserted() + report.failed()).isEqualTo(100);
  }

  @Test
  void sinkDuplicatesWrittenByAnotherProcessAreCountedAtTheSink() throws Exception {
    InMemoryIdempotentSink<Event, String> sink = new InMemoryIdempotentSink<>(Event::id);
    sink.write(List.of(new Event("evt-1", "g1", -1), new Event("evt-2", "g2", -1)));
    ChunkReport<String> report =
        ChunkProcessor.builder(Event::id, sink)
            .partitions(2)
            .existingIds(Set.of("evt-2"))
            .build()
            .process(chunks(List.of(1, 2, 3, 3), 2));
    assertThat(report.duplicatesAtSink()).isEqualTo(1);
    assertThat(report.duplicatesPrefetched()).isEqualTo(1);
    assertThat(report.duplicatesInInput()).isEqualTo(1);
    assertThat(report.inserted()).isEqualTo(1);
    assertThat(report.summary())
        .startsWith("4 received in 2 chunks: 1 inserted, 3 duplicates (1 in input, 1 pre-fetched, 1 at sink), 0 failed; 2 partitions");
  }

  @Test
  void badChunksAreRejectedAndEverythingAcceptedBeforeIsWritten() throws Exception {
    InMemoryIdempotentSink<Event, String> sink = new InMemoryIdempotentSink<>(Event::id);
    ChunkProcessor<Event, String> processor =
        ChunkProcessor.builder(Event::id, sink).partitions(4).build();
    List<List<Event>> input = new ArrayList<>(chunks(List.of(1, 2, 3, 4, 5, 6), 3));
    input.add(Arrays.asList(new Event("evt-7", "g", 7), null));
    input.add(List.of(new Event("evt-8", "g", 8)));

    assertThatThrownBy(() -> processor.process(input))
        .isInstanceOfSatisfying(
            ChunkRejectedException.class,
            e -> {
              assertThat(e).hasMessage("chunk 2 holds a null event at position 1");
              assertThat(e.partialReport().inserted()).isEqualTo(6);
              assertThat(e.partialReport().chunks()).isEqualTo(2);
            });
    assertThat(sink.contents()).containsOnlyKeys("evt-1", "evt-2", "evt-3", "evt-4", "evt-5", "evt-6");

    assertThatThrownBy(() -> processor.process(List.of(List.of(new Event(null, "g", 1)))))
        .isInstanceOf(ChunkRejectedException.class)
        .hasMessageStartingWith("chunk 0 holds an event without id at position 0");
    assertThatThrownBy(() -> processor.process(Arrays.asList((List<Event>) null)))
        .hasMessage("chunk 0 is null");
    assertThatThrownBy(() -> ChunkProcessor.builder(Event::id, sink).partitions(0))
        .hasMessage("partitions must be at least 1, was 0");
    assertThatThrownBy(() -> ChunkProcessor.builder(Event::id, sink).maxInFlightChunks(0))
        .hasMessage("maxInFlightChunks must be at least 1, was 0");
    assertThatThrownBy(() -> ChunkProcessor.builder(null, sink)).hasMessage("idOf");
  }

  @Test
  void boundedInFlightChunksHoldTheReaderBack() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    InMemoryIdempotentSink<Event, String> store = new InMemoryIdempotentSink<>(Event::id);
    IdempotentSink<Event> slow =
        batch -> {
          release.await();
          return store.write(batch);
        };
    AtomicInteger pulled = new AtomicInteger();
    List<List<Event>> all = chunks(java.util.stream.IntStream.range(0, 100).boxed().toList(), 10);
    Iterable<List<Event>> source =
        () ->
            new Iterator<>() {
              final Iterator<List<Event>> it = all.iterator();

              @Override
              public boolean hasNext() {
                return it.hasNext();
              }

              @Override
              public List<Event> next() {
                pulled.incrementAndGet();
                return it.next();
              }
            };
    ChunkProcessor<Event, String> processor =
        ChunkProcessor.builder(Event::id, slow).partitions(2).maxInFlightChunks(2).build();
    Thread reader =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    processor.process(source);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    org.awaitility.Awaitility.await().until(() -> pulled.get() == 3);
    // Two chunks in flight, the third read and waiting for room: no further reads.
    org.awaitility.Awaitility.await()
        .during(Duration.ofMillis(200))
        .atMost(Duration.ofSeconds(2))
        .until(() -> pulled.get() == 3);
    release.countDown();
    reader.join();
    assertThat(store.size()).isEqualTo(100);
  }

  @Test
  void twoProcessorsOnOverlappingInputsInsertEachIdOnce() throws Exception {
    InMemoryIdempotentSink<Event, String> sink = new InMemoryIdempotentSink<>(Event::id);
    List<Integer> first = java.util.stream.IntStream.range(0, 6_000).boxed().toList();
    List<Integer> second = java.util.stream.IntStream.range(3_000, 9_000).boxed().toList();
    List<ChunkReport<String>> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<Thread> runs = new ArrayList<>();
    for (List<Integer> ids : List.of(first, second)) {
      runs.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      reports.add(
                          ChunkProcessor.builder(Event::id, sink)
                              .partitions(4)
                              .build()
                              .process(chunks(ids, 250)));
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }));
    }
    for (Thread run : runs) {
      run.join();
    }
    assertThat(reports).hasSize(2);
    assertThat(sink.size()).isEqualTo(9_000);
    assertThat(reports.get(0).inserted() + reports.get(1).inserted()).isEqualTo(9_000);
    assertThat(reports.get(0).duplicatesAtSink() + reports.get(1).duplicatesAtSink()).isEqualTo(3_000);
  }

  @Test
  void publishesMeters() throws Exception {
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    InMemoryIdempotentSink<Event, String> sink = new InMemoryIdempotentSink<>(Event::id);
    sink.write(List.of(new Event("evt-0", "g0", -1)));
    ChunkProcessor.builder(Event::id, sink)
        .partitions(2)
        .name("ingest")
        .meterRegistry(registry)
        .build()
        .process(chunks(List.of(0, 1, 2, 3), 2));
    assertThat(registry.get("fanout.chunk.events").tags("name", "ingest", "outcome", "inserted").counter().count())
        .isEqualTo(3.0);
    assertThat(registry.get("fanout.chunk.events").tags("outcome", "duplicate_at_sink").counter().count())
        .isEqualTo(1.0);
    assertThat(registry.get("fanout.chunk.batch.duration").tags("outcome", "success").timer().count())
        .isPositive();
  }

  @Test
  void lanesEndWhenTheRunEnds() throws Exception {
    Set<Thread> lanes = ConcurrentHashMap.newKeySet();
    InMemoryIdempotentSink<Event, String> sink = new InMemoryIdempotentSink<>(Event::id);
    ChunkProcessor.builder(Event::id, sink)
        .partitions(8)
        .threadFactory(
            task -> {
              Thread t = Thread.ofVirtual().unstarted(task);
              lanes.add(t);
              return t;
            })
        .build()
        .process(chunks(java.util.stream.IntStream.range(0, 1000).boxed().toList(), 100));
    assertThat(lanes).hasSize(8).noneMatch(Thread::isAlive);
    assertThat(new LinkedHashSet<>(sink.contents().keySet())).hasSize(1000);
  }
}
