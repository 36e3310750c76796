package dev.fanout.chunk;

import dev.fanout.internal.Names;
import dev.fanout.Policies;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryPolicy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
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
 * <p>Every write of a lane goes through the lanes' {@linkplain Builder#policies policies} (the
 * same {@link Policies} composition pools, claim workers and plan steps take), keyed by the lane's
 * partition number: a retry, a circuit breaker shared with other writers of the store, a rate gate,
 * an attempt timeout. By default it is {@code retry(RetryPolicy.ofRetries(3))}. A batch the sink
 * fails to write is retried under the composition's {@link RetryPolicy} (safe: the sink is
 * idempotent), unless the sink says the failure is not {@linkplain IdempotentSink#isTransient
 * transient}. A batch that still fails is not given up as a whole: one bad event (a value too long
 * for its column, say) must not cost the others. It is <em>isolated</em>: the batch is split in
 * halves, each half written once, and a half that fails is split again, down to the single events
 * that fail on their own. Only those are reported failed, by id ({@link ChunkReport#failures()});
 * the rest is written and the other partitions go on. Halves are written depth first, first half
 * first, so the written events keep their input order.
 *
 * <p>The cost of isolating: a batch of {@code n} events of which {@code k} fail costs at most
 * {@code 2k⌈log₂ n⌉} extra writes (at each of the {@code ⌈log₂ n⌉} halvings at most {@code k}
 * parts fail, and each failing part costs two writes), and never more than {@code 2(n - 1)}, the
 * case where every event fails. The parts get one normal attempt each, without backoff: the batch
 * had its retries already, and a backoff ladder per part would multiply the wait by the number of
 * parts. Throttling is still honoured as the policy says (it is the store asking to slow down, not
 * a failure), and the policy's budget, listeners and meters apply. A store that is down for good
 * thus costs, after the batch's retries, {@code 2(n - 1)} quick failing writes per batch: bound
 * {@code n} by the chunk size.
 *
 * <p>An id counts as failed only if none of its events in the run was written: when a later copy
 * of a failed id (in a later chunk) is written, the earlier copy counts as an input duplicate.
 * Any partition count yields the same sink contents; {@code partitions(1)} is the safe
 * sequential mode (one lane, chunks in order).
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
 *
 * <p>Why this class is long (~820 lines): a run's reading of chunks ({@code Run}), its lanes
 * ({@code Lane}, with the halving that isolates a failing event) and their report share the run's
 * counters and back-pressure; they are nested classes here rather than package-private ones so that
 * the run's state is not reachable from the rest of the package.
 */
public final class ChunkProcessor<E, K> {
  private static final Logger log = LoggerFactory.getLogger(ChunkProcessor.class);

  private final Function<? super E, ? extends K> idOf;
  private final @Nullable Function<? super E, ? extends CharSequence> partitionKeyOf;
  private final IdempotentSink<E> sink;
  private final Partitioner partitioner;
  private final int maxInFlightChunks;
  private final Supplier<? extends Set<? extends K>> existingIds;
  private final Policies<Integer> policies;
  /** For the parts of a failed batch: the same policies, each retry with one normal attempt. */
  private final Policies<Integer> isolationPolicies;
  private final ThreadFactory threadFactory;
  private final @Nullable Meters meters;

  private ChunkProcessor(Builder<E, K> b) {
    this.idOf = b.idOf;
    this.partitionKeyOf = b.partitionKeyOf;
    this.sink = b.sink;
    this.partitioner = Partitioner.of(b.partitions);
    this.maxInFlightChunks = b.maxInFlightChunks;
    this.existingIds = b.existingIds;
    // A failure the sink calls not transient ends the write at once: it is not retried.
    Policies<Integer> given =
        b.policies != null
            ? b.policies
            : Policies.<Integer>builder()
                .retry(b.retryPolicy != null ? b.retryPolicy : RetryPolicy.ofRetries(3))
                .build();
    this.policies = given.mapRetries(p -> p.toBuilder().abortOn(this::finalBySink).build());
    this.isolationPolicies = policies.mapRetries(p -> p.toBuilder().maxAttempts(1).build());
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
   * @throws ChunkRejectedException if a chunk is null or holds a null event, an event whose id
   *     or partition key is null, or an event on which the id or partition key function throws;
   *     the chunks before it were processed, nothing of it or after it was
   * @throws InterruptedException if interrupted; lanes are interrupted and waited for
   */
  public ChunkReport<K> process(Iterable<? extends Collection<? extends E>> chunks)
      throws InterruptedException {
    Objects.requireNonNull(chunks, "chunks");
    Run run = new Run(Set.copyOf(existingIds.get()));
    run.start();
    Rejection rejection = null;
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
      throw new ChunkRejectedException(rejection.message(), rejection.cause(), report);
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
    boolean settled;

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

    /**
     * Routes one chunk to the lanes; returns why it was rejected, or null. A rejection names the
     * chunk and the event's position in it, never the event itself: its data stays out of logs.
     */
    @Nullable Rejection accept(@Nullable Collection<? extends E> chunk) throws InterruptedException {
      int index = chunks;
      if (chunk == null) {
        return new Rejection("chunk " + index + " is null", null);
      }
      int partitions = lanes.size();
      List<List<E>> eventsByPartition = new ArrayList<>(Collections.nCopies(partitions, null));
      List<List<K>> idsByPartition = new ArrayList<>(Collections.nCopies(partitions, null));
      int position = 0;
      for (E event : chunk) {
        if (event == null) {
          return new Rejection("chunk " + index + " holds a null event at position " + position, null);
        }
        K id;
        try {
          id = idOf.apply(event);
        } catch (RuntimeException e) {
          return new Rejection(
              "chunk " + index + ": the id function failed on the event at position " + position, e);
        }
        if (id == null) {
          return new Rejection(
              "chunk " + index + " holds an event without id at position " + position, null);
        }
        // The key is checked with one partition too, so every partition count accepts the same
        // input (and so stores the same events).
        CharSequence key;
        try {
          key = partitionKey(event, id);
        } catch (RuntimeException e) {
          return new Rejection(
              "chunk " + index + ": the partition key function failed on the event at position "
                  + position,
              e);
        }
        if (key == null) {
          return new Rejection(
              "chunk " + index + " holds an event whose partition key is null at position "
                  + position,
              null);
        }
        int p = partitions == 1 ? 0 : partitioner.partitionOf(key);
        List<E> events = eventsByPartition.get(p);
        List<K> ids = idsByPartition.get(p);
        if (events == null) {
          events = new ArrayList<>();
          ids = new ArrayList<>();
          eventsByPartition.set(p, events);
          idsByPartition.set(p, ids);
        }
        events.add(event);
        Objects.requireNonNull(ids).add(id);
        position++;
      }
      inFlight.acquire();
      int nonEmpty = 0;
      for (List<E> events : eventsByPartition) {
        if (events != null) {
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
        List<E> events = eventsByPartition.get(p);
        if (events != null) {
          lanes.get(p).queue.add(new Batch<>(index, events, idsByPartition.get(p), pending));
        }
      }
      return null;
    }

    /** The partition key; null if the key function (or the id's {@code toString()}) gave none. */
    private @Nullable CharSequence partitionKey(E event, K id) {
      if (partitionKeyOf == null) {
        return id instanceof CharSequence s ? s : String.valueOf(id);
      }
      return partitionKeyOf.apply(event);
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
      settleFailures(); // no report, but the meters count what failed before the abort
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }

    ChunkReport<K> report() {
      settleFailures();
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
        lane.failures.forEach((id, f) -> failures.put(id, Objects.requireNonNull(f.error)));
        stats.add(
            new ChunkReport.PartitionStats(
                lane.partition,
                lane.received,
                lane.inserted,
                lane.failed,
                lane.batches,
                lane.retries,
                lane.isolationWrites));
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

    /**
     * Once the lanes have ended: an id that failed but that some copy wrote (in a later chunk, or
     * in another lane if the partition key broke its contract) is no failure; its failed events
     * become input duplicates. Then the failed-events meter learns what truly failed.
     */
    void settleFailures() {
      if (settled) {
        return;
      }
      settled = true;
      long failed = 0;
      for (Lane lane : lanes) {
        for (var it = lane.failures.entrySet().iterator(); it.hasNext(); ) {
          var entry = it.next();
          if (writtenByAnyLane(entry.getKey())) {
            long events = entry.getValue().events;
            lane.failed -= events;
            lane.duplicatesInInput += events;
            it.remove();
          }
        }
        failed += lane.failed;
      }
      if (meters != null) {
        meters.failed(failed);
      }
    }

    private boolean writtenByAnyLane(K id) {
      for (Lane lane : lanes) {
        if (lane.written.contains(id)) {
          return true;
        }
      }
      return false;
    }
  }

  /** One partition's lane: a thread, its queue of batches and what it saw. Lane-confined state. */
  private final class Lane {
    final int partition;
    final Run run;
    final BlockingQueue<Batch<E, K>> queue = new LinkedBlockingQueue<>();
    /** Ids this lane has handled in this run: written, or skipped as pre-fetched. */
    final Set<K> written = new HashSet<>();
    /** Ids none of whose events this lane could write, in the order they first failed. */
    final Map<K, FailedId> failures = new LinkedHashMap<>();
    @Nullable Thread thread;
    long received;
    long inserted;
    long duplicatesInInput;
    long duplicatesPrefetched;
    long duplicatesAtSink;
    long failed;
    int batches;
    int retries;
    int isolationWrites;

    Lane(int partition, Run run) {
      this.partition = partition;
      this.run = run;
    }

    void loop() {
      try {
        for (Batch<E, K> batch = queue.take(); !batch.isEnd(); batch = queue.take()) {
          try {
            write(batch);
          } catch (RuntimeException e) { // a bug: write() handles what the sink and policy throw
            failUnaccounted(batch, e);
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

    private long accounted() {
      return inserted + duplicatesInInput + duplicatesPrefetched + duplicatesAtSink + failed;
    }

    private void write(Batch<E, K> batch) throws InterruptedException {
      received += batch.events.size();
      Set<K> batchIds = new HashSet<>();
      Map<K, Integer> copies = new HashMap<>(); // further copies of an id in this batch
      List<E> toWrite = new ArrayList<>(batch.events.size());
      List<K> toWriteIds = new ArrayList<>(batch.events.size());
      for (int i = 0; i < batch.events.size(); i++) {
        E event = batch.events.get(i);
        K id = batch.ids.get(i);
        if (written.contains(id)) {
          duplicatesInInput++;
        } else if (batchIds.contains(id)) {
          copies.merge(id, 1, Integer::sum); // counted once its first copy is written or fails
        } else if (run.prefetched.contains(id)) {
          duplicatesPrefetched++;
          written.add(id); // handled: a later copy in the input counts as an input duplicate
        } else {
          batchIds.add(id);
          toWrite.add(event);
          toWriteIds.add(id);
        }
      }
      if (toWrite.isEmpty()) {
        return;
      }
      batches++;
      long start = System.nanoTime();
      long failedBefore = failed;
      int isolationBefore = isolationWrites;
      Isolation isolation = new Isolation(batch.chunk, toWrite, toWriteIds, copies);
      isolation.write(0, toWrite.size(), policies);
      long lost = failed - failedBefore;
      if (meters != null) {
        meters.batch(System.nanoTime() - start, lost == 0);
      }
      if (lost > 0) {
        log.warn(
            "partition {}: {} of {} events from chunk {} could not be written ({} isolating"
                + " write(s)); first error: {}",
            partition,
            lost,
            batch.events.size(),
            batch.chunk,
            isolationWrites - isolationBefore,
            String.valueOf(isolation.firstError));
      }
    }

    /**
     * Writes one batch; when it fails for good, writes its halves, recursively, until the events
     * that fail on their own are found. Halves go depth first, first half first, so written events
     * keep their input order.
     */
    private final class Isolation {
      final int chunk;
      final List<E> events;
      final List<K> ids;
      final Map<K, Integer> copies;
      @Nullable Throwable firstError;

      Isolation(int chunk, List<E> events, List<K> ids, Map<K, Integer> copies) {
        this.chunk = chunk;
        this.events = events;
        this.ids = ids;
        this.copies = copies;
      }

      void write(int from, int to, Policies<Integer> through) throws InterruptedException {
        List<E> part = Collections.unmodifiableList(events.subList(from, to));
        WriteTask task = new WriteTask(part);
        Outcome<Integer> outcome;
        try {
          outcome = through.execute(partition, task);
        } catch (RuntimeException policyFailed) {
          // One of the policy's own functions threw: a bug, not a failure of this part's events.
          log.error(
              "partition {}: the retry policy failed on a batch from chunk {}; its {} event(s)"
                  + " are reported failed",
              partition,
              chunk,
              to - from,
              policyFailed);
          failAll(from, to, policyFailed);
          return;
        }
        retries += Math.max(0, task.writes - 1); // writes the sink saw, not policy attempts
        switch (outcome) {
          case Outcome.Success<Integer> s -> succeeded(from, to, s.value());
          case Outcome.Failure<Integer> f -> {
            if (f.reason() == Outcome.Reason.INTERRUPTED) {
              Thread.interrupted(); // the run is being aborted; the exception carries it on
              InterruptedException stop =
                  new InterruptedException("lane " + partition + " aborted");
              stop.initCause(f.error());
              throw stop;
            }
            Throwable error = f.error();
            if (to - from == 1) {
              failAll(from, to, error);
              return;
            }
            int middle = (from + to) >>> 1;
            isolationWrites += 2;
            write(from, middle, isolationPolicies);
            write(middle, to, isolationPolicies);
          }
        }
      }

      private void succeeded(int from, int to, int fresh) {
        int size = to - from;
        inserted += fresh;
        duplicatesAtSink += size - fresh;
        for (K id : ids.subList(from, to)) {
          written.add(id);
          duplicatesInInput += copies.getOrDefault(id, 0);
        }
        if (meters != null) {
          meters.written(fresh, size - fresh);
        }
      }

      private void failAll(int from, int to, Throwable error) {
        if (firstError == null) {
          firstError = error;
        }
        for (K id : ids.subList(from, to)) {
          long events = 1L + copies.getOrDefault(id, 0);
          failed += events;
          failures.computeIfAbsent(id, k -> new FailedId()).add(error, events);
          if (log.isDebugEnabled()) {
            log.debug(
                "partition {}: event {} from chunk {} failed: {}", partition, id, chunk, error.toString());
          }
        }
      }
    }

    /**
     * One write of a batch, as the retry policy calls it. A failure the sink says is not transient
     * ends the call ({@link ChunkProcessor#finalBySink}, the policy's {@code abortOn}).
     */
    private final class WriteTask implements Callable<Integer> {
      final List<E> part;
      int writes;

      WriteTask(List<E> part) {
        this.part = part;
      }

      @Override
      public Integer call() throws Exception {
        writes++;
        int fresh = sink.write(part);
        if (fresh < 0 || fresh > part.size()) {
          throw new IllegalStateException(
              "sink reported " + fresh + " new events for a batch of " + part.size());
        }
        return fresh;
      }
    }

    /** The defensive path for a bug in this class: every event of the batch not yet counted fails. */
    private void failUnaccounted(Batch<E, K> batch, RuntimeException error) {
      log.error("partition {}: batch from chunk {} could not be handled", partition, batch.chunk, error);
      long unaccounted = received - accounted();
      failed += unaccounted;
      for (K id : batch.ids) {
        if (!written.contains(id) && !failures.containsKey(id)) {
          failures.put(id, new FailedId().add(error, 0)); // its events are in the count above
        }
      }
    }
  }

  /** The last error of an id none of whose events a lane could write, and how many events failed. */
  private static final class FailedId {
    @Nullable Throwable error;
    long events;

    FailedId add(Throwable error, long events) {
      this.error = error;
      this.events += events;
      return this;
    }
  }

  /**
   * Whether the sink calls {@code error} final ({@link IdempotentSink#isTransient} false): then the
   * retry policy does not write the batch again. An interruption is not the sink's to judge; a
   * sink whose {@code isTransient} throws gets the benefit of the doubt (transient).
   */
  private boolean finalBySink(Throwable error) {
    if (!(error instanceof Exception failure) || error instanceof InterruptedException) {
      return false;
    }
    try {
      return !sink.isTransient(failure);
    } catch (RuntimeException e) {
      log.warn("the sink's isTransient failed; the failure counts as transient", e);
      return false;
    }
  }

  /** Why a chunk was rejected: the message and the key or id function's error, if any. */
  private record Rejection(String message, @Nullable Throwable cause) {}

  /** One lane's share of one chunk (events and their ids, index by index), or the end marker. */
  private record Batch<E, K>(int chunk, List<E> events, List<K> ids, AtomicInteger pending) {
    static <E, K> Batch<E, K> end() {
      return new Batch<>(-1, List.of(), List.of(), new AtomicInteger());
    }

    boolean isEnd() {
      return chunk < 0;
    }
  }

  /**
   * {@code fanout.chunk.events{outcome=inserted|duplicate_at_sink|failed}} counters and the
   * {@code fanout.chunk.batch.duration{outcome=success|failure}} timer, tagged {@code name}.
   * Inserted and at-sink events are counted as they are written; failed events when the run ends,
   * so that they are exactly the report's {@link ChunkReport#failed()}. The timer times each
   * partition batch, retries and isolation included; {@code failure} if any of its events failed.
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
          .description("Time to write one partition batch, retries and isolation included")
          .tags("name", name, "outcome", outcome)
          .register(registry);
    }

    /** One partition batch done, isolation included; failed if any of its events failed. */
    void batch(long nanos, boolean ok) {
      (ok ? success : failure).record(nanos, TimeUnit.NANOSECONDS);
    }

    void written(long fresh, long dup) {
      inserted.increment(fresh);
      atSink.increment(dup);
    }

    /** Counted when the run ends: until then, a later copy of a failed id may still be written. */
    void failed(long lost) {
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
    private @Nullable RetryPolicy retryPolicy;
    private @Nullable Policies<Integer> policies;
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

    /**
     * How a failing batch is retried; default {@link RetryPolicy#ofRetries(int) ofRetries(3)}.
     * A failure the sink calls not {@linkplain IdempotentSink#isTransient transient} is not
     * retried, whatever the policy's {@code retryOn}. The parts of a batch that failed for good
     * are written under this policy with one normal attempt (see {@link ChunkProcessor}).
     */
    public Builder<E, K> retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
      return this;
    }

    /**
     * The composition every write of a lane goes through, keyed by the lane's partition number
     * (0 to {@code partitions - 1}), e.g. {@code Policies.<Integer>builder().retry(retry)
     * .circuitBreaker(storeBreaker).attemptTimeout(Duration.ofSeconds(30)).build()}; default
     * {@code retry(RetryPolicy.ofRetries(3))}. The processor adds to each retry of it what {@link
     * #retryPolicy} describes: a failure the sink calls not transient is not retried, and the
     * parts of a batch that failed for good get one normal attempt each. A breaker's refusal or a
     * timeout is a failed write like any other (retried, then isolated). Use this or {@link
     * #retryPolicy}, not both.
     */
    public Builder<E, K> policies(Policies<Integer> policies) {
      this.policies = Objects.requireNonNull(policies, "policies");
      return this;
    }

    /** Threads for the lanes; default virtual threads named {@code fanout-<name>-lane-<n>}. */
    public Builder<E, K> threadFactory(ThreadFactory threadFactory) {
      this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
      return this;
    }

    /** Publishes {@code fanout.chunk.*} meters in {@code registry} (see {@link ChunkProcessor}). */
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

    /**
     * Builds the processor.
     *
     * @throws IllegalStateException if both {@link #policies} and {@link #retryPolicy} were set
     */
    public ChunkProcessor<E, K> build() {
      if (policies != null && retryPolicy != null) {
        throw new IllegalStateException(
            "set policies or retryPolicy, not both: put the retry policy into the composition"
                + " (policies " + policies + ", retryPolicy " + retryPolicy.name() + ")");
      }
      return new ChunkProcessor<>(this);
    }
  }
}
