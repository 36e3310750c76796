package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class H2JdbcIdempotentSinkTest extends AbstractJdbcIdempotentSinkTest {
  private HikariDataSource pool;

  @Override
  protected DataSource dataSource() {
    if (pool == null) {
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl("jdbc:h2:mem:sink-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
      config.setMaximumPoolSize(8);
      pool = new HikariDataSource(config);
    }
    return pool;
  }

  @AfterEach
  void closePool() {
    pool.close();
  }

  @Test
  void detectsH2() throws Exception {
    assertThat(sink(10).dialect()).isEqualTo(SqlDialect.H2);
  }
}
