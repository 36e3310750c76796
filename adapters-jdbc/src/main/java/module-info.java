/** JDBC adapters for fanout: claim-lease repository and idempotent sink over a {@code DataSource}. */
// Exports its API package once the adapter lands; until then it only re-exports the core.
module dev.fanout.jdbc {
  requires transitive dev.fanout.core;
  requires transitive java.sql;

}
