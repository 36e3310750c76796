package dev.fanout.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;
import javax.sql.DataSource;

/** The SQL flavours the JDBC adapters speak. */
public enum SqlDialect {
  /** PostgreSQL: {@code ON CONFLICT DO NOTHING}, {@code FOR UPDATE SKIP LOCKED}, {@code now()}. */
  POSTGRESQL,
  /** H2 2.x, the embedded default: standard {@code MERGE ... WHEN NOT MATCHED}. */
  H2;

  /**
   * The dialect of the database behind {@code dataSource}, from its product name.
   *
   * @throws IllegalArgumentException if the database is neither PostgreSQL nor H2
   * @throws SQLException if no connection can be had
   */
  public static SqlDialect detect(DataSource dataSource) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      String product = connection.getMetaData().getDatabaseProductName();
      String name = product.toLowerCase(Locale.ROOT);
      if (name.contains("postgresql")) {
        return POSTGRESQL;
      }
      if (name.equals("h2")) {
        return H2;
      }
      throw new IllegalArgumentException(
          "database '" + product + "' is not supported; supported: PostgreSQL, H2");
    }
  }
}
