package dev.fanout.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

class H2LeaseSchemaCheckTest extends AbstractLeaseSchemaCheckTest {
  private static HikariDataSource pool;

  @BeforeAll
  static void openPool() {
    pool = Pools.h2("schema-check", 4);
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
    return SqlDialect.H2;
  }

  @Override
  protected long leaseIndexesOf(String table) {
    return Pools.count(
        pool,
        "SELECT COUNT(*) FROM INFORMATION_SCHEMA.INDEXES WHERE TABLE_NAME = '"
            + table.toUpperCase(java.util.Locale.ROOT)
            + "' AND REGEXP_LIKE(INDEX_NAME, '_LEASE_(PENDING|CLAIMED)$')");
  }
}
