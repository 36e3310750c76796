package dev.fanout.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.testing.postgres.PostgresServer;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
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
}
