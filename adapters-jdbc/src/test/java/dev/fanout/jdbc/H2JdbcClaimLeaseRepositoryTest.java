package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.lease.LeaseStoreException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class H2JdbcClaimLeaseRepositoryTest extends AbstractJdbcClaimLeaseRepositoryTest {
  private static final String URL =
      "jdbc:h2:mem:lease-jdbc-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
  private static HikariDataSource pool;

  @BeforeAll
  static void openPool() {
    pool = Pools.pool(URL, 8);
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
  protected HikariConfig poolConfig() {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(URL);
    config.setMaximumPoolSize(2);
    return config;
  }

  @Test
  void failingStoreIsReportedAsLeaseStoreExceptionNamingTheCallAndTable() {
    DataSource down =
        proxy(
            DataSource.class,
            (method, args) -> {
              if (method.equals("getConnection")) {
                throw new SQLException("Connection refused");
              }
              return null;
            });
    JdbcClaimLeaseRepository<Long> repository =
        JdbcClaimLeaseRepository.forIds(down, Long.class)
            .table(LeaseTable.named("credential"))
            .build();

    assertThatThrownBy(() -> repository.claim("w", 1, Duration.ofSeconds(1)))
        .isInstanceOf(LeaseStoreException.class)
        .hasMessageContaining("claim on table credential failed")
        .hasMessageContaining("Connection refused")
        .hasCauseInstanceOf(SQLException.class);
    assertThatThrownBy(repository::reclaimExpired).isInstanceOf(LeaseStoreException.class);
  }

  @Test
  void unsupportedDatabaseIsRefusedByName() {
    DatabaseMetaData meta =
        proxy(
            DatabaseMetaData.class,
            (method, args) -> method.equals("getDatabaseProductName") ? "MySQL" : null);
    Connection connection =
        proxy(
            Connection.class,
            (method, args) ->
                switch (method) {
                  case "getMetaData" -> meta;
                  case "getAutoCommit" -> true;
                  default -> null;
                });
    DataSource mysql = proxy(DataSource.class, (method, args) -> connection);
    JdbcClaimLeaseRepository<Long> repository =
        JdbcClaimLeaseRepository.forIds(mysql, Long.class).build();

    assertThatThrownBy(() -> repository.claim("w", 1, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'MySQL' is not supported")
        .hasMessageContaining("PostgreSQL, H2");
  }

  @Test
  void explicitDialectSkipsDetection() {
    DataSource none =
        proxy(
            DataSource.class,
            (method, args) -> {
              throw new SQLException("no connection");
            });
    JdbcClaimLeaseRepository<Long> repository =
        JdbcClaimLeaseRepository.forIds(none, Long.class).dialect(SqlDialect.H2).build();

    assertThat(repository.toString()).contains("H2");
  }

  interface Handler {
    Object handle(String method, Object[] args) throws Throwable;
  }

  @SuppressWarnings("unchecked")
  private static <T> T proxy(Class<T> type, Handler handler) {
    return (T)
        Proxy.newProxyInstance(
            type.getClassLoader(),
            new Class<?>[] {type},
            (p, method, args) -> {
              if (method.getName().equals("close")) {
                return null;
              }
              return handler.handle(method.getName(), args);
            });
  }
}
