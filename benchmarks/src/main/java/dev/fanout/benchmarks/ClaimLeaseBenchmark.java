package dev.fanout.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.jdbc.JdbcClaimLeaseRepository;
import dev.fanout.jdbc.LeaseSchema;
import dev.fanout.jdbc.LeaseTable;
import dev.fanout.jdbc.SqlDialect;
import dev.fanout.lease.Claim;
import dev.fanout.lease.ClaimWorkers;
import dev.fanout.lease.ClaimWorkersConfig;
import dev.fanout.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
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
 * Claim-lease throughput on PostgreSQL: items claimed and completed per second (the score, ops/s =
 * items/s) by claim workers of concurrency {@code workers} and batch size {@code batch} (one claim
 * loop holding up to {@code workers × batch} items), with a handler that does nothing — what is
 * measured is the coordination.
 *
 * <ul>
 *   <li>{@code claimWorkers}: {@link ClaimWorkers} on {@link JdbcClaimLeaseRepository} (heartbeat
 *       and reaper running), each item completed by its own statement right after its handler.
 *   <li>{@code claimWorkersFlushed}: the same with batched completion: finished claims go to the
 *       flusher, which completes up to 1,000 of them per fenced statement, lingering at most 5 ms.
 *   <li>{@code rawLoop}: the same SQL by hand: each thread holds one connection and loops over
 *       the claim statement ({@code FOR UPDATE SKIP LOCKED} CTE feeding {@code UPDATE ...
 *       RETURNING}) and one fenced complete statement per claimed batch. The gap to {@code
 *       claimWorkers} is the runner's overhead.
 *   <li>{@code naiveForUpdate}: as {@code rawLoop} but {@code FOR UPDATE} without {@code SKIP
 *       LOCKED}: claimers queue on each other's rows.
 * </ul>
 *
 * <p>The benchmark starts its own PostgreSQL (the same {@link PostgresServer} the tests use: the
 * machine's PostgreSQL binaries, 127.0.0.1, {@code fsync}/{@code synchronous_commit} off) and
 * stops it at the end. Each iteration starts from a freshly filled table; the runner works through
 * it in the background, and one benchmark operation waits for the next {@value #CHUNK} items to
 * complete.
 *
 * <p>Run (a JDK 21+ {@code java}; Maven's own JVM may be older):
 *
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar ClaimLeaseBenchmark
 * # one cell, shorter:
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar ClaimLeaseBenchmark \
 *     -p runner=claimWorkersFlushed -p workers=8 -p batch=50 -wi 1 -w 2s -i 3 -r 3s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 3)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class ClaimLeaseBenchmark {
  static final int CHUNK = 500;
  private static final String TABLE = "bench_item";

  @Param({"claimWorkers", "claimWorkersFlushed", "rawLoop", "naiveForUpdate"})
  public String runner;

  @Param({"1", "4", "8"})
  public int workers;

  @Param({"1", "50"})
  public int batch;

  private PostgresServer server;
  private HikariDataSource pool;
  private Runner running;
  private long target;
  private long prefilled;

  @Setup(Level.Trial)
  public void startDatabase() throws SQLException {
    server = PostgresServer.start();
    Runtime.getRuntime().addShutdownHook(new Thread(server::close));
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(server.jdbcUrl());
    config.setMaximumPoolSize(workers + 6);
    config.setMinimumIdle(workers + 6);
    pool = new HikariDataSource(config);
    LeaseSchema.execute(
        pool, LeaseSchema.createTable(SqlDialect.POSTGRESQL, LeaseTable.named(TABLE)));
  }

  @TearDown(Level.Trial)
  public void stopDatabase() {
    pool.close();
    server.close();
  }

  @Setup(Level.Iteration)
  public void fillAndStart() throws SQLException {
    // Enough for a 3 s iteration at well above the rates seen; running out fails loudly.
    prefilled = batch == 1 ? 60_000 : 300_000;
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("TRUNCATE " + TABLE);
      s.execute(
          "INSERT INTO " + TABLE + " (id) SELECT g FROM generate_series(1, " + prefilled + ") g");
      s.execute("VACUUM ANALYZE " + TABLE);
    }
    target = 0;
    running =
        switch (runner) {
          case "claimWorkers" -> new WorkersRunner(pool, workers, batch, false);
          case "claimWorkersFlushed" -> new WorkersRunner(pool, workers, batch, true);
          case "rawLoop" -> new RawLoop(pool, workers, batch, true);
          case "naiveForUpdate" -> new RawLoop(pool, workers, batch, false);
          default -> throw new IllegalArgumentException("unknown runner " + runner);
        };
  }

  @TearDown(Level.Iteration)
  public void stop() {
    running.stop();
  }

  /** Waits until {@value #CHUNK} more items are completed. */
  @Benchmark
  @OperationsPerInvocation(CHUNK)
  public long items() {
    target += CHUNK;
    if (target > prefilled) {
      throw new IllegalStateException("ran out of items: raise the prefill above " + prefilled);
    }
    long done;
    while ((done = running.completed()) < target) {
      LockSupport.parkNanos(500_000);
    }
    return done;
  }

  /** Something that completes items in the background. */
  interface Runner {
    long completed();

    void stop();
  }

  static final class WorkersRunner implements Runner {
    private final ClaimWorkers<Long> claimWorkers;

    WorkersRunner(HikariDataSource pool, int workers, int batch, boolean flushed) {
      JdbcClaimLeaseRepository<Long> repository =
          JdbcClaimLeaseRepository.forIds(pool, Long.class)
              .table(LeaseTable.named(TABLE))
              .dialect(SqlDialect.POSTGRESQL)
              .build();
      ClaimWorkersConfig.Builder config =
          ClaimWorkersConfig.builder()
              .concurrency(workers)
              .batchSize(batch)
              .pollInterval(Duration.ofMillis(1))
              .maxPollInterval(Duration.ofMillis(10))
              .leaseDuration(Duration.ofMinutes(1));
      if (flushed) {
        config.completionBatching(1000, Duration.ofMillis(5));
      }
      claimWorkers =
          ClaimWorkers.builder(repository, (Claim<Long> claim) -> {})
              .name("bench")
              .config(config.build())
              .build();
      claimWorkers.start();
    }

    @Override
    public long completed() {
      return claimWorkers.status().completed();
    }

    @Override
    public void stop() {
      claimWorkers.stop();
    }
  }

  /** The claim and complete statements of the repository, by hand, one connection per thread. */
  static final class RawLoop implements Runner {
    private static final String COMPLETE =
        "UPDATE "
            + TABLE
            + " AS fanout_row SET lease_status = 'COMPLETED', lease_until = NULL"
            + " FROM unnest(?, ?) AS fanout_claim(fanout_claim_id, fanout_claim_token)"
            + " WHERE fanout_row.id = fanout_claim.fanout_claim_id"
            + " AND fanout_row.lease_token = fanout_claim.fanout_claim_token"
            + " AND fanout_row.lease_status = 'CLAIMED'"
            + " RETURNING fanout_row.id, fanout_row.lease_token, fanout_row.lease_until";

    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopped;

    RawLoop(HikariDataSource pool, int workers, int batch, boolean skipLocked) {
      String claim =
          "WITH picked AS (SELECT id FROM "
              + TABLE
              + " WHERE lease_status = 'PENDING' AND lease_available_at <= now()"
              + " ORDER BY lease_available_at, id LIMIT ? FOR UPDATE"
              + (skipLocked ? " SKIP LOCKED" : "")
              + ") UPDATE "
              + TABLE
              + " AS fanout_row SET lease_status = 'CLAIMED', lease_token = fanout_row.lease_token"
              + " + 1, lease_owner = ?, lease_claimed_at = now(), lease_until = now() + CAST(? AS"
              + " BIGINT) * INTERVAL '1 microsecond', lease_attempts = fanout_row.lease_attempts +"
              + " 1 FROM picked WHERE fanout_row.id = picked.id RETURNING fanout_row.id,"
              + " fanout_row.lease_token, fanout_row.lease_claimed_at, fanout_row.lease_until,"
              + " fanout_row.lease_attempts";
      for (int w = 0; w < workers; w++) {
        String workerId = "raw-" + w;
        threads.add(
            Thread.ofPlatform().name(workerId).start(() -> loop(pool, claim, workerId, batch)));
      }
    }

    private void loop(HikariDataSource pool, String claimSql, String workerId, int batch) {
      long[] ids = new long[batch];
      long[] tokens = new long[batch];
      while (!stopped) {
        try (Connection c = pool.getConnection();
            PreparedStatement claim = c.prepareStatement(claimSql);
            PreparedStatement complete = c.prepareStatement(COMPLETE)) {
          while (!stopped) {
            claim.setInt(1, batch);
            claim.setString(2, workerId);
            claim.setLong(3, 60_000_000L);
            int n = 0;
            try (ResultSet rs = claim.executeQuery()) {
              while (rs.next()) {
                ids[n] = rs.getLong(1);
                tokens[n] = rs.getLong(2);
                rs.getObject(3, OffsetDateTime.class);
                rs.getObject(4, OffsetDateTime.class);
                rs.getInt(5);
                n++;
              }
            }
            if (n == 0) {
              LockSupport.parkNanos(1_000_000);
              continue;
            }
            complete.setArray(1, c.createArrayOf("int8", boxed(ids, n)));
            complete.setArray(2, c.createArrayOf("int8", boxed(tokens, n)));
            int applied = 0;
            try (ResultSet rs = complete.executeQuery()) {
              while (rs.next()) {
                applied++;
              }
            }
            completed.addAndGet(applied);
          }
        } catch (SQLException e) {
          // The naive FOR UPDATE claim deadlocks now and then; count it and go on.
          errors.incrementAndGet();
        }
      }
    }

    private static Long[] boxed(long[] values, int n) {
      Long[] boxed = new Long[n];
      for (int i = 0; i < n; i++) {
        boxed[i] = values[i];
      }
      return boxed;
    }

    @Override
    public long completed() {
      return completed.get();
    }

    @Override
    public void stop() {
      if (errors.get() > 0) {
        System.out.println(
            "(" + errors.get() + " statements failed, e.g. deadlocks; their items were retried)");
      }
      stopped = true;
      for (Thread t : threads) {
        try {
          t.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
