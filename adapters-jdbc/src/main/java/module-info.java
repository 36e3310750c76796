/** JDBC adapters for fanout: claim-lease repository and idempotent sink over a {@code DataSource}. */
module dev.fanout.jdbc {
  requires transitive dev.fanout.core;
  requires transitive java.sql;
  requires static org.jspecify;

  exports dev.fanout.jdbc;
}
