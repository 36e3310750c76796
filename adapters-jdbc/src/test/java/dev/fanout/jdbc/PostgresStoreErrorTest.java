package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.lease.Claim;
import dev.fanout.lease.ClaimWorkers;
import dev.fanout.lease.ClaimWorkersConfig;
import dev.fanout.lease.LeaseStoreException;
import dev.fanout.testing.postgres.PostgresServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** How the repository reports SQL failures, and what the workers do with them. */
@ExtendWith(PostgresExtension.class)
class PostgresStoreErrorTest {
  private static HikariDataSource pool;

  @BeforeAll
  static void openPool(PostgresServer server) {
    pool = Pools.pool(server.createDatabase("store_errors"), 4);
  }

  @AfterAll
  static void closePool() {
    pool.close();
  }

  /**
   * A repository on a table of its own whose error column (100 characters) is shorter than the
   * repository's error length (the default, 2000).
   */
  private static JdbcClaimLeaseRepository<Long> tooLongErrors(DataSource ds, String name)
      throws SQLException {
    LeaseTable table = LeaseTable.named(name);
    Pools.execute(
        ds,
        "DROP TABLE IF EXISTS " + name,
        "CREATE TABLE " + name + " (id BIGINT PRIMARY KEY, lease_error VARCHAR(100))");
    LeaseSchema.execute(ds, LeaseSchema.addLeaseColumns(SqlDialect.POSTGRESQL, table));
    Pools.execute(ds, "INSERT INTO " + name + " (id) VALUES (1)");
    return JdbcClaimLeaseRepository.forIds(ds, Long.class).table(table).build();
  }

  @Test
  void aDataErrorIsNotTransientAndAConnectionErrorIs() throws SQLException {
    JdbcClaimLeaseRepository<Long> repository = tooLongErrors(pool, "data_error_item");
    Claim<Long> claim = repository.claim("w", 1, Duration.ofMinutes(1)).get(0);

    Throwable failure = catchThrowable(() -> repository.fail(claim, "x".repeat(3000)));

    assertThat(failure)
        .isInstanceOf(LeaseStoreException.class)
        .hasMessageStartingWith("fail on table data_error_item failed: ");
    assertThat(((LeaseStoreException) failure).isTransient()).isFalse();
    assertThat(((SQLException) failure.getCause()).getSQLState()).isEqualTo("22001");

    HikariConfig config = new HikariConfig();
    config.setJdbcUrl("jdbc:postgresql://127.0.0.1:1/none");
    config.setInitializationFailTimeout(-1); // start without a connection
    config.setConnectionTimeout(250);
    try (HikariDataSource nowhere = new HikariDataSource(config)) {
      JdbcClaimLeaseRepository<Long> unreachable =
          JdbcClaimLeaseRepository.forIds(nowhere, Long.class).build();
      Throwable down = catchThrowable(() -> unreachable.claim("w", 1, Duration.ofMinutes(1)));
      assertThat(down).isInstanceOf(LeaseStoreException.class);
      assertThat(((LeaseStoreException) down).isTransient()).isTrue();
    }
  }

  /**
   * Regression: a failure no retry can fix (here: the failure reason is longer than the error
   * column, {@code 22001}) was retried with backoff for a whole lease; now it is given up at once.
   */
  @Test
  void workersDoNotRetryAFailureNoRetryCanFix() throws SQLException {
    JdbcClaimLeaseRepository<Long> repository = tooLongErrors(pool, "poison_item");
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ClaimWorkers<Long> workers =
        ClaimWorkers.builder(
                repository,
                (Claim<Long> claim) -> {
                  throw new IllegalStateException("y".repeat(500));
                })
            .name("poison")
            .meterRegistry(registry)
            .config(
                ClaimWorkersConfig.builder()
                    .concurrency(1)
                    .pollInterval(Duration.ofMillis(10))
                    .maxPollInterval(Duration.ofMillis(50))
                    .leaseDuration(Duration.ofSeconds(30))
                    .heartbeatInterval(Duration.ofSeconds(10))
                    .reaperInterval(Duration.ofSeconds(10))
                    .maxAttempts(1)
                    .build())
            .build();
    workers.start();
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> registry.get("fanout.lease.store.errors").functionCounter().count() >= 1);
      // Tried once: during the next half second (ten poll intervals) no further try fails.
      await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(5))
          .until(() -> registry.get("fanout.lease.store.errors").functionCounter().count() == 1);
    } finally {
      assertThat(workers.stop()).isTrue();
    }
  }
}
