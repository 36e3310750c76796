package dev.fanout.benchmarks;

import dev.fanout.chunk.ChunkProcessor;
import dev.fanout.chunk.ChunkReport;
import dev.fanout.chunk.IdempotentSink;
import dev.fanout.chunk.InMemoryIdempotentSink;
import dev.fanout.retry.RetryPolicy;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Chunk ingestion throughput (events/s) by partition count, with an in-memory sink whose writes
 * are CPU-bound: before an event is stored it is checksummed 16 times over (SHA-256 of a 200-byte
 * payload, about 4 us of CPU, standing in for parsing and validating it). {@code partitions = 1}
 * is the safe sequential mode. Input: 100,000 events in chunks of 1,000, 5% of them
 * duplicates.
 *
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar ChunkBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ChunkBenchmark {
  static final int EVENTS = 100_000;
  static final int CHUNK = 1_000;
  static final int WORK_ROUNDS = 16;

  /** Parallel lanes. */
  @Param({"1", "2", "4", "8"})
  public int partitions;

  /** An event with an id and a payload to checksum. */
  public record Event(String id, byte[] payload) {}

  private List<List<Event>> chunks;
  private ChunkProcessor<Event, String> processor;
  private InMemoryIdempotentSink<Event, String> store;

  @Setup(Level.Trial)
  public void makeInput() {
    SplittableRandom random = new SplittableRandom(42);
    chunks = new ArrayList<>();
    List<Event> chunk = new ArrayList<>(CHUNK);
    for (int i = 0; i < EVENTS; i++) {
      int n = random.nextInt(100) < 5 && i > 0 ? random.nextInt(i) : i; // 5% repeat an earlier id
      byte[] payload = new byte[200];
      random.nextBytes(payload);
      chunk.add(new Event("evt-" + n, payload));
      if (chunk.size() == CHUNK) {
        chunks.add(chunk);
        chunk = new ArrayList<>(CHUNK);
      }
    }
  }

  @Setup(Level.Invocation)
  public void freshSink() {
    store = new InMemoryIdempotentSink<>(Event::id);
    IdempotentSink<Event> checksummingSink =
        batch -> {
          MessageDigest sha = sha256();
          for (Event e : batch) {
            byte[] digest = e.id().getBytes(StandardCharsets.UTF_8);
            for (int round = 0; round < WORK_ROUNDS; round++) {
              sha.update(digest);
              sha.update(e.payload());
              digest = sha.digest();
            }
            if (digest.length != 32) {
              throw new IllegalStateException();
            }
          }
          return store.write(batch);
        };
    processor =
        ChunkProcessor.builder(Event::id, checksummingSink)
            .partitions(partitions)
            .maxInFlightChunks(8)
            .retryPolicy(RetryPolicy.none())
            .build();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long inMemory() throws InterruptedException {
    ChunkReport<String> report = processor.process(chunks);
    if (report.received() != EVENTS || report.failed() != 0) {
      throw new IllegalStateException(report.summary());
    }
    return report.inserted();
  }
}
