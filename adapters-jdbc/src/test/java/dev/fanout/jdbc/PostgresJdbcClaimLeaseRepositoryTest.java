package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.lease.Claim;
import dev.fanout.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class PostgresJdbcClaimLeaseRepositoryTest extends AbstractJdbcClaimLeaseRepositoryTest {
  private static String url;
  private static HikariDataSource pool;

  @BeforeAll
  static void openPool(PostgresServer server) {
    url = server.createDatabase("jdbc_specifics");
    pool = Pools.pool(url, 8);
  }

  @AfterAll
  static void closePool() {
    pool.close();
  }

  @Override
  protected DataSource dataSource() {
    return pool;
  }

  @Override
  protected SqlDialect dialect() {
    return SqlDialect.POSTGRESQL;
  }

  @Override
  protected HikariConfig poolConfig() {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(2);
    return config;
  }

  /**
   * Regression: with statistics taken while nothing was claimed, PostgreSQL found the rows of a
   * fenced batch through the reaper's index of claimed rows, reading every live lease for each
   * claim in the batch — completion slowed to ~1,000 items/s with 10,000 claims held. Fenced calls
   * must find their rows by primary key.
   */
  @Test
  void fencedBatchesFindTheirRowsByPrimaryKeyEvenWithStaleStatistics() throws SQLException {
    HikariConfig config = poolConfig();
    config.setMaximumPoolSize(1); // one backend, so that its statistics can be flushed and read
    try (HikariDataSource one = new HikariDataSource(config)) {
      LeaseTable table = LeaseTable.named("plan_item");
      Pools.execute(one, "DROP TABLE IF EXISTS plan_item");
      LeaseSchema.execute(one, LeaseSchema.createTable(SqlDialect.POSTGRESQL, table));
      Pools.execute(
          one,
          "INSERT INTO plan_item (id) SELECT g FROM generate_series(1, 20000) g",
          "VACUUM ANALYZE plan_item"); // statistics: nothing claimed
      JdbcClaimLeaseRepository<Long> repository =
          JdbcClaimLeaseRepository.forIds(one, Long.class).table(table).build();
      List<Claim<Long>> claims = repository.claim("w", 5000, Duration.ofMinutes(10));
      long before = claimedIndexReads(one);

      assertThat(repository.renewAll(claims, Duration.ofMinutes(10)).applied()).hasSize(5000);
      assertThat(repository.completeAll(claims).applied()).hasSize(5000);

      long after = claimedIndexReads(one);
      assertThat(after - before).as("rows read through plan_item_lease_claimed").isZero();
    }
  }

  /** Rows read through the claimed-rows index, counters flushed and fresh. */
  private static long claimedIndexReads(DataSource one) throws SQLException {
    try (Connection c = one.getConnection();
        Statement s = c.createStatement()) {
      s.execute("SELECT pg_stat_force_next_flush()"); // this backend's counters, at this commit
      s.execute("SELECT pg_stat_clear_snapshot()");
      try (ResultSet rs =
          s.executeQuery(
              "SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname ="
                  + " 'plan_item_lease_claimed'")) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
