package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.testing.postgres.PostgresServer;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The idempotent sink on a real PostgreSQL server started on loopback for the test run. */
class PostgresJdbcIdempotentSinkTest extends AbstractJdbcIdempotentSinkTest {
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private HikariDataSource pool;

  @Override
  protected DataSource dataSource() {
    if (pool == null) {
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(
          PostgresServer.shared().createDatabase("sink_" + DATABASES.incrementAndGet()));
      config.setMaximumPoolSize(10);
      pool = new HikariDataSource(config);
    }
    return pool;
  }

  @AfterEach
  void closePool() {
    pool.close();
  }

  @Test
  void detectsPostgresql() throws Exception {
    assertThat(sink(10).dialect()).isEqualTo(SqlDialect.POSTGRESQL);
  }
}
