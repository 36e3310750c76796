package dev.fanout.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.testing.faults.FaultProxy;

/**
 * Connection pools that reach PostgreSQL through a {@link FaultProxy}, with the driver's timeouts
 * short enough that a stalled connection is given up within seconds.
 */
final class ProxiedPools {
  /** The driver's socket timeout: a statement whose reply does not come in time fails. */
  static final int SOCKET_TIMEOUT_SECONDS = 2;

  private ProxiedPools() {}

  /**
   * A pool of at most {@code size} connections to {@code database} through {@code proxy}; none
   * kept open beyond what the callers use, so that a connection the proxy broke is not replaced
   * behind the test's back. {@code prepareThreshold=0} makes the driver send every statement's
   * text, so that the proxy's markers find it.
   */
  static HikariDataSource pool(FaultProxy proxy, String database, boolean autoCommit, int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(
        "jdbc:postgresql://"
            + proxy.host()
            + ":"
            + proxy.port()
            + "/"
            + database
            + "?user=postgres&prepareThreshold=0&socketTimeout="
            + SOCKET_TIMEOUT_SECONDS
            + "&connectTimeout=2&loginTimeout=3");
    config.setAutoCommit(autoCommit);
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(0);
    config.setConnectionTimeout(1_000);
    config.setValidationTimeout(500);
    return new HikariDataSource(config);
  }
}
