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
import dev.fanout.lease.ClaimWorkersStatus;
import dev.fanout.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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
 * Credential checking: {@code workers} handlers verify stored credentials in
 * parallel, with batch size 1 (at most one row held per handler) ({@link ClaimWorkers} on {@link
 * JdbcClaimLeaseRepository}, heartbeat and reaper running), so that no row is checked twice, and
 * settling the claim after success or failure. The score, ops/s = credentials checked per second,
 * counts every check whose outcome the store confirmed: completed, released after a failure, or
 * marked failed. {@code workers = 1} is the sequential baseline; parallel workers should give
 * 3-10x, ideally {@code workers} times the baseline.
 *
 * <ul>
 *   <li>The handler stands in for the verification call: it sleeps {@code checkMillis} (10 ms, a
 *       1 s real verification scaled down 100x), so one worker checks at most about 100
 *       credentials per second and the database round trips are a small share of each check.
 *   <li>Every 20th credential (by id) fails its verification after the same wait: its claim is
 *       released for a retry in a minute (attempt 1 of 2), so it does not come back within an
 *       iteration, and the workers go on.
 *   <li>{@code database}: {@code h2}, an embedded in-memory H2 (a new database per trial, as the
 *       tests set it up: guarded compare-and-set claims, since H2 has no {@code SKIP LOCKED}), or
 *       {@code postgres}, a real PostgreSQL started for the trial (the same {@link PostgresServer}
 *       the tests use: the machine's PostgreSQL binaries, 127.0.0.1, {@code
 *       fsync}/{@code synchronous_commit} off; {@code FOR UPDATE SKIP LOCKED} claims) and stopped
 *       at its end.
 * </ul>
 *
 * <p>Each iteration starts from a freshly filled table of {@value #PREFILL} credentials and new
 * workers, which work through it in the background and are stopped (every thread of theirs ended)
 * at the iteration's end; one benchmark operation waits for the next {@value #CHUNK} checks.
 *
 * <p>Run (a JDK 21+ {@code java}; Maven's own JVM may be older):
 *
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar CredentialCheckBenchmark
 * # one database, longer:
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar CredentialCheckBenchmark \
 *     -p database=postgres -wi 1 -w 2s -i 5 -r 2s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class CredentialCheckBenchmark {
  static final int CHUNK = 10;

  /**
   * Credentials per iteration: 10 workers at 100 checks/s each need 1,000 per second, so this
   * lasts a 20 s iteration; running out fails loudly.
   */
  static final int PREFILL = 20_000;

  /** Every credential whose id is a multiple of this fails its verification. */
  static final int FAIL_EVERY = 20;

  private static final String TABLE = "credential";

  @Param({"h2", "postgres"})
  public String database;

  @Param({"1", "3", "5", "10"})
  public int workers;

  /** The simulated verification, in milliseconds: a 1 s call scaled down 100x. */
  @Param({"10"})
  public int checkMillis;

  private SqlDialect dialect;
  private PostgresServer server;
  private Thread serverShutdown;
  private String h2Url;
  private HikariDataSource pool;
  private ClaimWorkers<Long> running;
  private long target;

  @Setup(Level.Trial)
  public void startDatabase() throws SQLException {
    HikariConfig config = new HikariConfig();
    switch (database) {
      case "h2" -> {
        dialect = SqlDialect.H2;
        h2Url = "jdbc:h2:mem:credentials-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        config.setJdbcUrl(h2Url);
      }
      case "postgres" -> {
        dialect = SqlDialect.POSTGRESQL;
        server = PostgresServer.start();
        serverShutdown = new Thread(server::close, "credential-check-postgres-shutdown");
        Runtime.getRuntime().addShutdownHook(serverShutdown);
        config.setJdbcUrl(server.jdbcUrl());
      }
      default -> throw new IllegalArgumentException("unknown database " + database);
    }
    // A connection per worker, one each for the heartbeat and the reaper, and spare for setup.
    config.setMaximumPoolSize(workers + 4);
    config.setMinimumIdle(workers + 4);
    config.setConnectionTimeout(10_000);
    pool = new HikariDataSource(config);
    LeaseSchema.execute(pool, LeaseSchema.createTable(dialect, LeaseTable.named(TABLE)));
  }

  @TearDown(Level.Trial)
  public void stopDatabase() throws SQLException {
    pool.close();
    if (h2Url != null) {
      // DB_CLOSE_DELAY=-1 keeps the database after its last connection; free it for the trials
      // that follow in the same JVM.
      try (Connection c = DriverManager.getConnection(h2Url);
          Statement s = c.createStatement()) {
        s.execute("SHUTDOWN");
      }
    }
    if (server != null) {
      server.close();
      try {
        Runtime.getRuntime().removeShutdownHook(serverShutdown);
      } catch (IllegalStateException e) {
        // The JVM is already shutting down; the hook closes the closed server again, harmlessly.
      }
    }
  }

  @Setup(Level.Iteration)
  public void fillAndStart() throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      if (dialect == SqlDialect.POSTGRESQL) {
        s.execute("TRUNCATE " + TABLE);
        s.execute(
            "INSERT INTO " + TABLE + " (id) SELECT g FROM generate_series(1, " + PREFILL + ") g");
        s.execute("VACUUM ANALYZE " + TABLE);
      } else {
        s.execute("TRUNCATE TABLE " + TABLE);
        s.execute("INSERT INTO " + TABLE + " (id) SELECT X FROM SYSTEM_RANGE(1, " + PREFILL + ")");
        s.execute("ANALYZE TABLE " + TABLE);
      }
    }
    target = 0;
    JdbcClaimLeaseRepository<Long> repository =
        JdbcClaimLeaseRepository.forIds(pool, Long.class)
            .table(LeaseTable.named(TABLE))
            .dialect(dialect)
            .build();
    ClaimWorkersConfig config =
        ClaimWorkersConfig.builder()
            .concurrency(workers)
            .batchSize(1)
            .pollInterval(Duration.ofMillis(1))
            .maxPollInterval(Duration.ofMillis(10))
            .leaseDuration(Duration.ofMinutes(1))
            // A failed check is released and would be retried a minute later, past the
            // iteration; its second failure would mark it failed, so nothing is retried forever.
            .maxAttempts(2)
            .retryDelay(Duration.ofMinutes(1), Duration.ofMinutes(1))
            .shutdownTimeout(Duration.ofSeconds(10))
            .build();
    long sleepMillis = checkMillis;
    running =
        ClaimWorkers.builder(
                repository,
                (Claim<Long> claim) -> {
                  Thread.sleep(sleepMillis);
                  if (claim.item() % FAIL_EVERY == 0) {
                    throw new IllegalStateException("credential " + claim.item() + " rejected");
                  }
                })
            .name("credential-check")
            .config(config)
            .build();
    running.start();
  }

  @TearDown(Level.Iteration)
  public void stop() {
    if (!running.stop()) {
      throw new IllegalStateException("credential check workers did not stop: " + running);
    }
    // A lost lease would mean a credential was taken over, and possibly checked twice.
    if (running.status().leaseLost() > 0) {
      throw new IllegalStateException("claims were lost: " + running);
    }
  }

  /** Waits until {@value #CHUNK} more credentials are checked. */
  @Benchmark
  @OperationsPerInvocation(CHUNK)
  public long checks() {
    target += CHUNK;
    if (target > PREFILL) {
      throw new IllegalStateException("ran out of credentials: raise the prefill above " + PREFILL);
    }
    long done;
    while ((done = checked(running.status())) < target) {
      LockSupport.parkNanos(500_000);
    }
    return done;
  }

  /** Checks whose outcome the store confirmed: completed, released for a retry, or failed. */
  private static long checked(ClaimWorkersStatus status) {
    return status.completed() + status.retried() + status.failed();
  }
}
