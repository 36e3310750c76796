package dev.fanout.chunk;

import dev.fanout.internal.Names;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryPolicy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ingests chunks of events in parallel without duplicate-insert races: the safe replacement for
 * "process every chunk at once and hope" and for the sequential loop that teams fall back to.
 *
 * <p>How: every event goes to the partition its key hashes to ({@link Partitioner}, stable
 * across JVMs), so all events of one key have one owner, its <em>lane</em>. Lanes run in
 * parallel, one thread each, and handle their share of each chunk in chunk order; lane
 * {@code p} of chunk {@code n+1} waits only for lane {@code p} of chunk {@code n}, so chunks
 * overlap. At most {@code maxInFlightChunks} chunks are in progress; reading waits for the oldest
 * to finish (back-pressure to the source). Duplicates are removed three times:
 *
 * <ol>
 *   <li>within the input: an id already written in this run (its lane remembers) or repeated in
 *       the same batch;
 *   <li>against pre-fetched existing ids ({@link Builder#existingIds}): an optimisation that
 *       saves writes;
 *   <li>by the {@link IdempotentSink} itself, the arbiter of correctness: another process may
 *       have written the id meanwhile.
 * </ol>
 *
 * A batch the sink fails to write is retried under the {@link RetryPolicy} (safe: the sink is
 * idempotent); past its attempts, its events are reported failed by id and the other partitions
 * go on. Any partition count yields the same sink contents; {@code partitions(1)} is the
 * original sequential mode.
 *
 * <p>Events with the same id must have the same partition key (true for the default, which is
 * the id itself). Events of one partition key reach the sink in input order.
 *
 * {@snippet :
 * ChunkProcessor<Event, String> processor =
 *     ChunkProcessor.builder(Event::id, sink)
 *         .partitions(8)
 *         .existingIds(sink.existingIdsSince(Instant.now().minus(Duration.ofDays(30))))
 *         .retryPolicy(RetryPolicy.ofRetries(3))
 *         .build();
 * ChunkReport<String> report = processor.process(chunks);
 * log.info(report.summary());
 * }
 *
 * <p>A processor is immutable and thread-safe; each {@link #process} call has its own lanes.
 *
 * @param <E> the event type
 * @param <K> the event id type
 */
public final class ChunkProcessor<E, K> {
  private static final Logger log = LoggerFactory.getLogger(ChunkProcessor.class);

  private final Function<? super E, ? extends K> idOf;
  private final @Nullable Function<? super E, ? extends CharSequence> partitionKeyOf;
  private final IdempotentSink<E> sink;
  private final Partitioner partitioner;
  private final int maxInFlightChunks;
  private final Supplier<? extends Set<? extends K>> existingIds;
  private final RetryPolicy retryPolicy;
  private final ThreadFactory threadFactory;
  private final @Nullable Meters meters;

  private ChunkProcessor(Builder<E, K> b) {
    this.idOf = b.idOf;
    this.partitionKeyOf = b.partitionKeyOf;
    this.sink = b.sink;
    this.partitioner = Partitioner.of(b.partitions);
    this.maxInFlightChunks = b.maxInFlightChunks;
    this.existingIds = b.existingIds;
    this.retryPolicy = b.retryPolicy;
    this.threadFactory =
        b.threadFactory != null
            ? b.threadFactory
            : Thread.ofVirtual().name("fanout-" + b.name + "-lane-", 0).factory();
    this.meters = b.registry == null ? null : new Meters(b.registry, b.name);
  }

  /**
   * A builder for a processor that identifies events by {@code idOf} and writes them to
   * {@code sink}.
   */
  public static <E, K> Builder<E, K> builder(
      Function<? super E, ? extends K> idOf, IdempotentSink<E> sink) {
    return new Builder<>(idOf, sink);
  }

  /** How many partitions (lanes) a run uses. */
  public int partitions() {
    return partitioner.partitions();
  }

  /**
   * Reads {@code chunks} in order and ingests them; returns when every chunk read was processed.
   *
   * @throws ChunkRejectedException if a chunk is null or holds a null event or an event whose
   *     id is null; the chunks before it were processed, nothing of it or after it was
   * @throws InterruptedException if interrupted; lanes are interrupted and waited for
   */
  public ChunkReport<K> process(Iterable<? extends Collection<? extends E>> chunks)
      throws InterruptedException {
    Objects.requireNonNull(chunks, "chunks");
    Run run = new Run(Set.copyOf(existingIds.get()));
    run.start();
    String rejection = null;
    try {
      for (Collection<? extends E> chunk : chunks) {
        rejection = run.accept(chunk);
        if (rejection != null) {
          break;
        }
      }
    } catch (InterruptedException | Error e) {
      run.abort();
      throw e;
    } catch (RuntimeException sourceFailed) {
      // The source broke: finish what was accepted, then report the failure.
      ChunkReport<K> partial = run.finish();
      log.warn("chunk source failed after {} chunk(s): {}", partial.chunks(), partial.summary());
      throw sourceFailed;
    }
    ChunkReport<K> report = run.finish();
    if (rejection != null) {
      throw new ChunkRejectedException(rejection, report);
    }
    log.debug("chunk run done: {}", report.summary());
    return report;
  }

  /** One {@link #process} call. The reader thread calls accept/finish; lanes do the writing. */
  private final class Run {
    final Set<? extends K> prefetched;
    final List<Lane> lanes = new ArrayList<>();
    final Semaphore inFlight = new Semaphore(maxInFlightChunks);
    final long startNanos = System.nanoTime();
    int chunks;
    long received;

    Run(Set<? extends K> prefetched) {
      this.prefetched = prefetched;
      for (int p = 0; p < partitions(); p++) {
        lanes.add(new Lane(p, this));
      }
    }

    void start() {
      for (Lane lane : lanes) {
        Thread thread = threadFactory.newThread(lane::loop);
        lane.thread = thread;
        thread.start();
      }
    }

    /** Routes one chunk to the lanes; returns why it was rejected, or null. */
    @Nullable String accept(@Nullable Collection<? extends E> chunk) throws InterruptedException {
      int index = chunks;
      if (chunk == null) {
        return "chunk " + index + " is null";
      }
      int partitions = lanes.size();
      List<List<E>> byPartition = new ArrayList<>(Collections.nCopies(partitions, null));
      int position = 0;
      for (E event : chunk) {
        if (event == null) {
          return "chunk " + index + " holds a null event at position " + position;
        }
        K id = idOf.apply(event);
        if (id == null) {
          return "chunk " + index + " holds an event without id at position " + position + ": " + event;
        }
        int p = partitions == 1 ? 0 : partitioner.partitionOf(partitionKey(event, id));
        List<E> batch = byPartition.get(p);
        if (batch == null) {
          batch = new ArrayList<>();
          byPartition.set(p, batch);
        }
        batch.add(event);
        position++;
      }
      inFlight.acquire();
      int nonEmpty = 0;
      for (List<E> batch : byPartition) {
        if (batch != null) {
          nonEmpty++;
        }
      }
      chunks++;
      received += position;
      if (nonEmpty == 0) {
        inFlight.release();
        return null;
      }
      AtomicInteger pending = new AtomicInteger(nonEmpty);
      for (int p = 0; p < partitions; p++) {
        List<E> batch = byPartition.get(p);
        if (batch != null) {
          lanes.get(p).queue.add(new Batch<>(index, batch, pending));
        }
      }
      return null;
    }

    private CharSequence partitionKey(E event, K id) {
      if (partitionKeyOf == null) {
        return id instanceof CharSequence s ? s : String.valueOf(id);
      }
      return Objects.requireNonNull(partitionKeyOf.apply(event), "partition key");
    }

    /** Lets every lane drain and end, then reports. */
    ChunkReport<K> finish() throws InterruptedException {
      for (Lane lane : lanes) {
        lane.queue.add(Batch.end());
      }
      try {
        for (Lane lane : lanes) {
          Objects.requireNonNull(lane.thread).join();
        }
      } catch (InterruptedException e) {
        abort();
        throw e;
      }
      return report();
    }

    /** Interrupts the lanes and waits for them (interrupts here are kept for the caller). */
    void abort() {
      boolean interrupted = Thread.interrupted();
      for (Lane lane : lanes) {
        Thread thread = lane.thread;
        if (thread != null) {
          thread.interrupt();
        }
      }
      for (Lane lane : lanes) {
        Thread thread = lane.thread;
        while (thread != null && thread.isAlive()) {
          try {
            thread.join();
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }

    ChunkReport<K> report() {
      long inserted = 0;
      long inInput = 0;
      long atPrefetch = 0;
      long atSink = 0;
      long failed = 0;
      Map<K, Throwable> failures = new LinkedHashMap<>();
      List<ChunkReport.PartitionStats> stats = new ArrayList<>();
      for (Lane lane : lanes) {
        inserted += lane.inserted;
        inInput += lane.duplicatesInInput;
        atPrefetch += lane.duplicatesPrefetched;
        atSink += lane.duplicatesAtSink;
        failed += lane.failed;
        failures.putAll(lane.failures);
        stats.add(
            new ChunkReport.PartitionStats(
                lane.partition, lane.received, lane.inserted, lane.failed, lane.batches, lane.retries));
      }
      return new ChunkReport<>(
          chunks,
          received,
          inserted,
          inInput,
          atPrefetch,
          atSink,
          failed,
          failures,
          stats,
          Duration.ofNanos(System.nanoTime() - startNanos));
    }
  }

  /** One partition's lane: a thread, its queue of batches and what it saw. Lane-confined state. */
  private final class Lane {
    final int partition;
    final Run run;
    final BlockingQueue<Batch<E>> queue = new LinkedBlockingQueue<>();
    /** Ids this lane has handled in this run: written, or skipped as pre-fetched. */
    final Set<K> written = new HashSet<>();
    final Map<K, Throwable> failures = new LinkedHashMap<>();
    @Nullable Thread thread;
    long received;
    long inserted;
    long duplicatesInInput;
    long duplicatesPrefetched;
    long duplicatesAtSink;
    long failed;
    int batches;
    int retries;

    Lane(int partition, Run run) {
      this.partition = partition;
      this.run = run;
    }

    void loop() {
      try {
        for (Batch<E> batch = queue.take(); !batch.isEnd(); batch = queue.take()) {
          try {
            write(batch);
          } catch (RuntimeException e) { // from the id or partition-key functions, say
            failWholeBatch(batch, e);
          } finally {
            if (batch.pending.decrementAndGet() == 0) {
              run.inFlight.release();
            }
          }
        }
      } catch (InterruptedException e) {
        log.debug("lane {} interrupted", partition);
      }
    }

    private void write(Batch<E> batch) throws InterruptedException {
      received += batch.events.size();
      Set<K> batchIds = new HashSet<>();
      List<E> toWrite = new ArrayList<>(batch.events.size());
      List<K> toWriteIds = new ArrayList<>(batch.events.size());
      for (E event : batch.events) {
        K id = idOf.apply(event);
        if (written.contains(id) || !batchIds.add(id)) {
          duplicatesInInput++;
        } else if (run.prefetched.contains(id)) {
          duplicatesPrefetched++;
          written.add(id); // handled: a later copy in the input counts as an input duplicate
        } else {
          toWrite.add(event);
          toWriteIds.add(id);
        }
      }
      if (toWrite.isEmpty()) {
        return;
      }
      batches++;
      List<E> view = Collections.unmodifiableList(toWrite);
      long start = System.nanoTime();
      Outcome<Integer> outcome = retryPolicy.execute(() -> checkedWrite(view));
      retries += outcome.attempts() - 1;
      switch (outcome) {
        case Outcome.Success<Integer> s -> {
          int fresh = s.value();
          inserted += fresh;
          duplicatesAtSink += toWrite.size() - fresh;
          written.addAll(toWriteIds);
          record(start, true, fresh, toWrite.size() - fresh, 0);
        }
        case Outcome.Failure<Integer> f -> {
          if (f.error() instanceof InterruptedException ie) {
            throw ie; // the run is being aborted
          }
          failed += toWrite.size();
          for (K id : toWriteIds) {
            failures.put(id, f.error());
          }
          record(start, false, 0, 0, toWrite.size());
          log.warn(
              "partition {}: batch of {} events from chunk {} failed after {} attempt(s): {}",
              partition,
              toWrite.size(),
              batch.chunk,
              f.attempts(),
              f.error().toString());
        }
      }
    }

    private void failWholeBatch(Batch<E> batch, RuntimeException error) {
      log.error("partition {}: batch from chunk {} could not be handled", partition, batch.chunk, error);
      long accounted = inserted + duplicatesInInput + duplicatesPrefetched + duplicatesAtSink + failed;
      long unaccounted = received - accounted;
      failed += unaccounted;
      for (E event : batch.events) {
        try {
          failures.put(idOf.apply(event), error);
        } catch (RuntimeException ignored) {
          // the id function itself is what failed; the count above still holds
        }
      }
    }

    private Integer checkedWrite(List<E> batch) throws Exception {
      int fresh = sink.write(batch);
      if (fresh < 0 || fresh > batch.size()) {
        throw new IllegalStateException(
            "sink reported " + fresh + " new events for a batch of " + batch.size());
      }
      return fresh;
    }

    private void record(long startNanos, boolean ok, long fresh, long atSink, long lost) {
      if (meters != null) {
        meters.record(System.nanoTime() - startNanos, ok, fresh, atSink, lost);
      }
    }
  }

  /** One lane's share of one chunk, or the end marker. */
  private record Batch<E>(int chunk, List<E> events, AtomicInteger pending) {
    static <E> Batch<E> end() {
      return new Batch<>(-1, List.of(), new AtomicInteger());
    }

    boolean isEnd() {
      return chunk < 0;
    }
  }

  /**
   * {@code fanout.chunk.events{outcome=inserted|duplicate_at_sink|failed}} counters and the
   * {@code fanout.chunk.batch.duration{outcome=success|failure}} timer, tagged {@code name}.
   */
  private static final class Meters {
    final Counter inserted;
    final Counter atSink;
    final Counter failed;
    final Timer success;
    final Timer failure;

    Meters(MeterRegistry registry, String name) {
      inserted = events(registry, name, "inserted");
      atSink = events(registry, name, "duplicate_at_sink");
      failed = events(registry, name, "failed");
      success = timer(registry, name, "success");
      failure = timer(registry, name, "failure");
    }

    private static Counter events(MeterRegistry registry, String name, String outcome) {
      return Counter.builder("fanout.chunk.events")
          .description("Events written by chunk processors, by outcome")
          .tags("name", name, "outcome", outcome)
          .register(registry);
    }

    private static Timer timer(MeterRegistry registry, String name, String outcome) {
      return Timer.builder("fanout.chunk.batch.duration")
          .description("Time to write one partition batch, retries included")
          .tags("name", name, "outcome", outcome)
          .register(registry);
    }

    void record(long nanos, boolean ok, long fresh, long dup, long lost) {
      (ok ? success : failure).record(nanos, TimeUnit.NANOSECONDS);
      inserted.increment(fresh);
      atSink.increment(dup);
      failed.increment(lost);
    }
  }

  /** Builds a {@link ChunkProcessor}. Not thread-safe; {@link #build()} copies. */
  public static final class Builder<E, K> {
    private final Function<? super E, ? extends K> idOf;
    private final IdempotentSink<E> sink;
    private @Nullable Function<? super E, ? extends CharSequence> partitionKeyOf;
    private int partitions = Runtime.getRuntime().availableProcessors();
    private int maxInFlightChunks = 4;
    private Supplier<? extends Set<? extends K>> existingIds = Set::of;
    private RetryPolicy retryPolicy = RetryPolicy.ofRetries(3);
    private @Nullable ThreadFactory threadFactory;
    private @Nullable MeterRegistry registry;
    private String name = "chunks";

    private Builder(Function<? super E, ? extends K> idOf, IdempotentSink<E> sink) {
      this.idOf = Objects.requireNonNull(idOf, "idOf");
      this.sink = Objects.requireNonNull(sink, "sink");
    }

    /** How many partitions (parallel lanes); at least 1; default: the number of processors. */
    public Builder<E, K> partitions(int partitions) {
      if (partitions < 1) {
        throw new IllegalArgumentException("partitions must be at least 1, was " + partitions);
      }
      this.partitions = partitions;
      return this;
    }

    /**
     * What to hash for the partition; default: the id ({@code String.valueOf} for non-strings).
     * Events with the same id must map to the same partition key.
     */
    public Builder<E, K> partitionKey(Function<? super E, ? extends CharSequence> partitionKeyOf) {
      this.partitionKeyOf = Objects.requireNonNull(partitionKeyOf, "partitionKeyOf");
      return this;
    }

    /** How many chunks may be in progress at once; at least 1; default 4. */
    public Builder<E, K> maxInFlightChunks(int maxInFlightChunks) {
      if (maxInFlightChunks < 1) {
        throw new IllegalArgumentException(
            "maxInFlightChunks must be at least 1, was " + maxInFlightChunks);
      }
      this.maxInFlightChunks = maxInFlightChunks;
      return this;
    }

    /** Ids known to be stored already (an optimisation: the sink still decides). */
    public Builder<E, K> existingIds(Set<? extends K> ids) {
      Set<? extends K> copy = Set.copyOf(Objects.requireNonNull(ids, "existingIds"));
      this.existingIds = () -> copy;
      return this;
    }

    /** Fetches the ids known to be stored at the start of each run. */
    public Builder<E, K> existingIds(Supplier<? extends Set<? extends K>> ids) {
      this.existingIds = Objects.requireNonNull(ids, "existingIds");
      return this;
    }

    /** How a failing batch is retried; default {@link RetryPolicy#ofRetries(int) ofRetries(3)}. */
    public Builder<E, K> retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
      return this;
    }

    /** Threads for the lanes; default virtual threads named {@code fanout-<name>-lane-<n>}. */
    public Builder<E, K> threadFactory(ThreadFactory threadFactory) {
      this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
      return this;
    }

    /** Publishes {@code fanout.chunk.*} meters in {@code registry}. */
    public Builder<E, K> meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** The name used in thread names and the {@code name} meter tag; default {@code chunks}. */
    public Builder<E, K> name(String name) {
      Objects.requireNonNull(name, "name");
      this.name = Names.nonBlank(name);
      return this;
    }

    /** Builds the processor. */
    public ChunkProcessor<E, K> build() {
      return new ChunkProcessor<>(this);
    }
  }
}
