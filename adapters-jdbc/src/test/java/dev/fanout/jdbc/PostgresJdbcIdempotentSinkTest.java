package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.testing.postgres.PostgresServer;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The idempotent sink on the real PostgreSQL server the test run starts on loopback. */
@ExtendWith(PostgresExtension.class)
class PostgresJdbcIdempotentSinkTest extends AbstractJdbcIdempotentSinkTest {
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static PostgresServer server;
  private HikariDataSource pool;

  @BeforeAll
  static void server(PostgresServer shared) {
    server = shared;
  }

  @Override
  protected DataSource dataSource() {
    if (pool == null) {
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(server.createDatabase("sink_" + DATABASES.incrementAndGet()));
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
