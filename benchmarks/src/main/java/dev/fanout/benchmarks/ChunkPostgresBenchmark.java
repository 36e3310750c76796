package dev.fanout.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.chunk.ChunkProcessor;
import dev.fanout.chunk.ChunkReport;
import dev.fanout.jdbc.JdbcIdempotentSink;
import dev.fanout.retry.RetryPolicy;
import dev.fanout.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Chunk ingestion throughput (events/s) into PostgreSQL by partition count: the I/O-bound case.
 * The sink is {@link JdbcIdempotentSink} ({@code INSERT ... ON CONFLICT (id) DO NOTHING}, 100
 * rows per statement, a partition's share of a chunk in one transaction) on a real server started
 * on loopback for the benchmark ({@link PostgresServer}: the machine's PostgreSQL binaries, fsync off, as in the
 * tests). Input: 20,000 events in chunks of 1,000, 5% repeats; the table is emptied before each
 * run. {@code partitions = 1} is the safe sequential mode.
 *
 * <p>On loopback a statement's round trip is tens of microseconds and the server's own work, on
 * the same cores, dominates; a database across a network adds about a millisecond per statement.
 * {@code rttMicros} adds that much waiting per statement, so both cases are measured.
 *
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar ChunkPostgresBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 4, time = 3)
@Fork(1)
public class ChunkPostgresBenchmark {
  static final int EVENTS = 20_000;
  static final int CHUNK = 1_000;

  /** Parallel lanes. */
  @Param({"1", "2", "4", "8"})
  public int partitions;

  /** Simulated network round trip per statement, in microseconds (0: plain loopback). */
  @Param({"0", "1000"})
  public int rttMicros;

  /** An event. */
  public record Event(String id, String provider, String payload) {}

  private PostgresServer server;
  private HikariDataSource pool;
  private List<List<Event>> chunks;
  private ChunkProcessor<Event, String> processor;

  @Setup(Level.Trial)
  public void start() throws SQLException {
    server = PostgresServer.start();
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(server.createDatabase("chunks"));
    config.setMaximumPoolSize(10);
    pool = new HikariDataSource(config);
    try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE event (id VARCHAR(64) PRIMARY KEY, provider VARCHAR(32) NOT NULL,"
              + " payload VARCHAR(200))");
    }
    SplittableRandom random = new SplittableRandom(42);
    chunks = new ArrayList<>();
    List<Event> chunk = new ArrayList<>(CHUNK);
    for (int i = 0; i < EVENTS; i++) {
      int n = random.nextInt(100) < 5 && i > 0 ? random.nextInt(i) : i;
      chunk.add(new Event("evt-" + n, "provider-" + (n % 5), "payload of event " + n));
      if (chunk.size() == CHUNK) {
        chunks.add(chunk);
        chunk = new ArrayList<>(CHUNK);
      }
    }
    JdbcIdempotentSink<Event, String> sink =
        JdbcIdempotentSink.builder(pool, "event", "id", Event::id, String.class)
            .column("provider", Event::provider)
            .column("payload", Event::payload)
            .rowsPerStatement(100)
            .build();
    int rowsPerStatement = 100;
    dev.fanout.chunk.IdempotentSink<Event> remote =
        batch -> {
          if (rttMicros > 0) {
            int statements = (batch.size() + rowsPerStatement - 1) / rowsPerStatement;
            Thread.sleep(java.time.Duration.ofNanos(statements * rttMicros * 1_000L));
          }
          return sink.write(batch);
        };
    processor =
        ChunkProcessor.builder(Event::id, remote)
            .partitions(partitions)
            .maxInFlightChunks(8)
            .retryPolicy(RetryPolicy.none())
            .build();
  }

  @Setup(Level.Invocation)
  public void emptyTable() throws SQLException {
    try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
      s.execute("TRUNCATE event");
    }
  }

  @TearDown(Level.Trial)
  public void stop() {
    pool.close();
    server.close();
  }

  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public long postgres() throws InterruptedException {
    ChunkReport<String> report = processor.process(chunks);
    if (report.received() != EVENTS || report.failed() != 0) {
      throw new IllegalStateException(report.summary());
    }
    return report.inserted();
  }
}
