/**
 * JDBC adapters: {@link dev.fanout.jdbc.JdbcIdempotentSink} for chunk processing and the JDBC
 * claim-lease repository, over any {@link javax.sql.DataSource} (PostgreSQL, or H2 as the
 * embedded default).
 */
@NullMarked
package dev.fanout.jdbc;

import org.jspecify.annotations.NullMarked;
