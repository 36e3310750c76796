package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.lease.Claim;
import dev.fanout.lease.ClaimWorkers;
import dev.fanout.lease.ClaimWorkersConfig;
import dev.fanout.lease.LeaseCounts;
import dev.fanout.testing.postgres.PostgresServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The PostgreSQL server goes down in the middle of a run and comes back on the same port: the
 * workers log, back off, reconnect when it is back and finish; nothing is lost.
 */
class PostgresRestartTest {
  private static final int ITEMS = 3000;

  @Test
  @Timeout(180)
  void workersRideOutARestartOfTheDatabase() {
    try (PostgresServer server = PostgresServer.start(); // its own: the others must not see it go
        HikariDataSource pool = Pools.pool(server.jdbcUrl(), 8)) {
      pool.setConnectionTimeout(500); // fail fast while the server is down
      LeaseTable table = LeaseTable.named("restart_item");
      Pools.execute(
          pool, LeaseSchema.createTable(SqlDialect.POSTGRESQL, table).toArray(String[]::new));
      Pools.execute(
          pool,
          "CREATE TABLE processed (item_id BIGINT PRIMARY KEY)",
          "INSERT INTO restart_item (id) SELECT g FROM generate_series(1, " + ITEMS + ") g");
      JdbcClaimLeaseRepository<Long> repository =
          JdbcClaimLeaseRepository.forIds(pool, Long.class).table(table).build();
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      ClaimWorkers<Long> workers =
          ClaimWorkers.builder(
                  repository,
                  (Claim<Long> claim) -> {
                    Thread.sleep(1); // a little work, so the restart lands mid-run
                    try (Connection c = pool.getConnection();
                        PreparedStatement ps =
                            c.prepareStatement(
                                "INSERT INTO processed VALUES (?) ON CONFLICT DO NOTHING")) {
                      ps.setLong(1, claim.item());
                      ps.executeUpdate();
                    }
                  })
              .name("restart")
              .meterRegistry(registry)
              .config(
                  ClaimWorkersConfig.builder()
                      .concurrency(4)
                      .batchSize(5)
                      .pollInterval(Duration.ofMillis(20))
                      .maxPollInterval(Duration.ofMillis(500))
                      .leaseDuration(Duration.ofSeconds(20))
                      .heartbeatInterval(Duration.ofSeconds(1))
                      .reaperInterval(Duration.ofSeconds(1))
                      .maxAttempts(5)
                      .retryDelay(Duration.ZERO, Duration.ZERO)
                      .build())
              .build();
      workers.start();
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> workers.status().completed() >= ITEMS / 4);

        // Down long enough for every worker to fail and back off several times, then up again.
        server.stop();
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> registry.get("fanout.lease.store.errors").functionCounter().count() >= 12);
        server.startAgain();

        await()
            .atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(100))
            .until(() -> workers.status().completed() + workers.status().failed() == ITEMS);
        assertThat(registry.get("fanout.lease.store.errors").functionCounter().count())
            .as("the outage was seen")
            .isPositive();
      } finally {
        assertThat(workers.stop()).isTrue();
      }

      assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, ITEMS, 0));
      assertThat(Pools.count(pool, "SELECT COUNT(*) FROM processed")).isEqualTo(ITEMS);
      assertThat(workers.status().failed()).isZero();
      assertThat(workers.status().leaseLost()).isZero();
    }
  }
}
