package dev.fanout.jdbc;

import dev.fanout.chunk.IdempotentSink;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.Jitter;
import dev.fanout.retry.RetryPolicy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * An {@link IdempotentSink} on a table with a unique id column: writing an event whose id is
 * stored already changes nothing, and {@link #write} returns exactly how many rows were new.
 *
 * <ul>
 *   <li>PostgreSQL: {@code INSERT INTO t (...) VALUES (...), (...) ON CONFLICT (id) DO NOTHING},
 *       many rows per statement; the row count PostgreSQL reports is the number inserted.
 *       Concurrent writers of the same id are serialised by the unique index: one inserts, the
 *       others wait for it and then do nothing. Rows are written in id order, so writers of
 *       overlapping batches wait for each other in the same order and never deadlock (a
 *       two-writer stress test pins this); a deadlock or serialization failure caused by other
 *       work on the table is tried again a few times, with a short wait, before it is thrown.
 *   <li>H2: {@code MERGE INTO t USING (VALUES ...) s ON t.id = s.id WHEN NOT MATCHED THEN
 *       INSERT}. Two transactions inserting the same new id at the same moment make one of them
 *       fail with a duplicate-key error; the sink tries it again (as for a deadlock, below), and
 *       the MERGE then finds the row and skips it, so the outcome is the same, only later.
 * </ul>
 *
 * The table needs a primary key or unique constraint on the id column, for example:
 *
 * {@snippet lang = "sql" :
 * CREATE TABLE event (
 *   id          VARCHAR(64) PRIMARY KEY,
 *   provider    VARCHAR(64) NOT NULL,
 *   occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
 *   payload     VARCHAR(4000)
 * );
 * }
 *
 * {@snippet file="dev/fanout/jdbc/snippets/JdbcSnippets.java" region="idempotent-sink"}
 *
 * Table and column names must be plain SQL identifiers (checked; never concatenated unchecked).
 * Values are bound with {@link PreparedStatement#setObject}. Thread-safe: each call takes its
 * own connection from the data source.
 *
 * <p>Failures are classified by {@link SqlErrors#isTransient}: a chunk processor retries a batch
 * that failed with a deadlock or a broken connection, but not one that failed with a value too
 * long for its column or a violated constraint, which no retry can write.
 *
 * @param <E> the event type
 * @param <K> the id type
 */
public final class JdbcIdempotentSink<E, K> implements IdempotentSink<E> {
  /** PostgreSQL's limit on bind parameters per statement. */
  private static final int MAX_PARAMETERS = 32_767;

  /** How often a write that loses a race (deadlock, serialization failure) is tried in all. */
  private static final int CONFLICT_TRIES = 3;

  private final DataSource dataSource;
  private final SqlDialect dialect;
  private final String table;
  private final String idColumn;
  private final Class<K> idType;
  private final Function<? super E, ? extends K> idOf;
  private final List<String> columns;
  private final List<Function<? super E, ?>> values;
  private final int rowsPerStatement;
  private final Comparator<E> canonicalOrder;
  /** Tries a write that lost a race again: rolled back, it may pass once the other writer is done. */
  private final RetryPolicy conflicts;

  private JdbcIdempotentSink(Builder<E, K> b, SqlDialect dialect) {
    this.dataSource = b.dataSource;
    this.dialect = dialect;
    this.conflicts =
        RetryPolicy.builder()
            .name("jdbc-sink-conflicts")
            .maxAttempts(CONFLICT_TRIES)
            .retryOn(this::lostARace)
            .throttledWhen(e -> false)
            .backoff(
                Backoff.exponential(Duration.ofMillis(20), 2.0, Duration.ofMillis(40))
                    .withJitter(Jitter.EQUAL))
            .build();
    this.table = b.table;
    this.idColumn = b.idColumn;
    this.idType = b.idType;
    this.idOf = b.idOf;
    this.columns = List.copyOf(b.columns.keySet());
    this.values = List.copyOf(b.columns.values());
    this.rowsPerStatement = Math.min(b.rowsPerStatement, MAX_PARAMETERS / columns.size());
    Function<? super E, ? extends K> id = b.idOf;
    this.canonicalOrder =
        Comparable.class.isAssignableFrom(b.idType)
            ? (x, y) -> compareIds(id.apply(x), id.apply(y))
            : Comparator.comparing(e -> id.apply(e).toString());
  }

  @SuppressWarnings("unchecked")
  private static <K> int compareIds(K a, K b) {
    return ((Comparable<Object>) a).compareTo(b);
  }

  /**
   * A builder for a sink on {@code table}, whose {@code idColumn} holds {@code idOf(event)}.
   *
   * @throws IllegalArgumentException if a name is not a plain SQL identifier
   */
  public static <E, K> Builder<E, K> builder(
      DataSource dataSource,
      String table,
      String idColumn,
      Function<? super E, ? extends K> idOf,
      Class<K> idType) {
    return new Builder<>(dataSource, table, idColumn, idOf, idType);
  }

  /** The dialect in use. */
  public SqlDialect dialect() {
    return dialect;
  }

  /**
   * {@inheritDoc}
   *
   * <p>The rows are written in the order of their ids (natural order if the ids are {@link
   * Comparable}, else by their string form), whatever the order of {@code batch}: writers of
   * overlapping batches then lock the ids they share in the same order and wait for each other
   * instead of deadlocking. A write that still loses a race (deadlock {@code 40P01}, serialization
   * failure {@code 40001}; on H2 a duplicate key from a concurrent MERGE) is rolled back and tried
   * again here (a {@link RetryPolicy}), up to three times in all, after 10 to 20 ms and then 20 to
   * 40 ms (equal jitter); any other failure is thrown at once.
   *
   * @throws SQLException if the batch could not be written; nothing of it is stored then
   * @throws InterruptedException if interrupted while waiting to try again
   */
  @Override
  public int write(List<E> batch) throws SQLException, InterruptedException {
    Objects.requireNonNull(batch, "batch");
    List<E> rows = distinctById(batch);
    if (rows.isEmpty()) {
      return 0;
    }
    rows.sort(canonicalOrder);
    try {
      return conflicts.call(() -> writeOnce(rows));
    } catch (SQLException | InterruptedException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("unexpected failure of a write: " + e, e); // none is thrown
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>As {@link SqlErrors#isTransient} says: a data error (a value too long, {@code 22001}), a
   * constraint violated ({@code 23xxx}) or a statement the table does not fit ({@code 42xxx}) is
   * not transient, and a chunk processor does not retry it; a deadlock, serialization failure or
   * broken connection is.
   */
  @Override
  public boolean isTransient(Throwable failure) {
    return SqlErrors.isTransient(failure) || lostARace(failure);
  }

  /**
   * A deadlock or serialization failure; on H2 also a duplicate key, which its MERGE raises when
   * another transaction inserted the same new id at the same moment (tried again, the MERGE
   * finds the row and skips it).
   */
  private boolean lostARace(Throwable failure) {
    return SqlErrors.isConflict(failure)
        || (dialect == SqlDialect.H2 && SqlErrors.hasState(failure, "23505"));
  }

  private int writeOnce(List<E> rows) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      boolean autoCommit = connection.getAutoCommit();
      if (autoCommit && rows.size() <= rowsPerStatement) {
        return insert(connection, rows);
      }
      // Several statements (or a caller-managed transaction): all or nothing, so that a retry
      // after a failure counts every new row as new.
      if (autoCommit) {
        connection.setAutoCommit(false);
      }
      Exception failure = null;
      try {
        int inserted = 0;
        for (int from = 0; from < rows.size(); from += rowsPerStatement) {
          inserted +=
              insert(connection, rows.subList(from, Math.min(rows.size(), from + rowsPerStatement)));
        }
        connection.commit();
        return inserted;
      } catch (SQLException | RuntimeException e) {
        // On a broken connection the rollback and the reset below fail too: the caller is told
        // of the first failure, with theirs attached, not of a closed connection.
        failure = e;
        try {
          connection.rollback();
        } catch (SQLException rollback) {
          e.addSuppressed(rollback);
        }
        throw e;
      } finally {
        if (autoCommit) {
          try {
            connection.setAutoCommit(true);
          } catch (SQLException reset) {
            if (failure == null) {
              throw reset;
            }
            failure.addSuppressed(reset);
          }
        }
      }
    }
  }

  private List<E> distinctById(List<E> batch) {
    Set<K> seen = new HashSet<>();
    List<E> rows = new ArrayList<>(batch.size());
    for (E event : batch) {
      K id = Objects.requireNonNull(idOf.apply(event), "id of an event");
      if (seen.add(id)) {
        rows.add(event);
      }
    }
    return rows;
  }

  private int insert(Connection connection, List<E> rows) throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(insertSql(rows.size()))) {
      int parameter = 1;
      for (E row : rows) {
        for (Function<? super E, ?> value : values) {
          statement.setObject(parameter++, value.apply(row));
        }
      }
      return statement.executeUpdate();
    }
  }

  private String insertSql(int rowCount) {
    String names = String.join(", ", columns);
    String oneRow = columns.stream().map(c -> "?").collect(Collectors.joining(", ", "(", ")"));
    String rowsSql = String.join(", ", java.util.Collections.nCopies(rowCount, oneRow));
    return switch (dialect) {
      case POSTGRESQL ->
          "INSERT INTO " + table + " (" + names + ") VALUES " + rowsSql
              + " ON CONFLICT (" + idColumn + ") DO NOTHING";
      case H2 ->
          "MERGE INTO " + table + " t USING (VALUES " + rowsSql + ") AS s(" + names + ")"
              + " ON t." + idColumn + " = s." + idColumn
              + " WHEN NOT MATCHED THEN INSERT (" + names + ") VALUES ("
              + columns.stream().map(c -> "s." + c).collect(Collectors.joining(", ")) + ")";
    };
  }

  /** Every id in the table; for small tables or tests. */
  public Set<K> existingIds() throws SQLException {
    return query("SELECT " + idColumn + " FROM " + table, null);
  }

  /**
   * The ids of rows whose {@code timeColumn} is at or after {@code since} (for example the last 30 days
   * of one provider's events): a pre-fetch of known ids to pass to
   * {@link dev.fanout.chunk.ChunkProcessor.Builder#existingIds}.
   *
   * @throws IllegalArgumentException if {@code timeColumn} is not a plain SQL identifier
   */
  public Set<K> existingIdsSince(String timeColumn, Instant since) throws SQLException {
    String column = SqlIdentifiers.column("timeColumn", timeColumn);
    Objects.requireNonNull(since, "since");
    return query(
        "SELECT " + idColumn + " FROM " + table + " WHERE " + column + " >= ?",
        Timestamp.from(since));
  }

  private Set<K> query(String sql, @Nullable Object parameter) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      if (parameter != null) {
        statement.setObject(1, parameter);
      }
      statement.setFetchSize(10_000);
      Set<K> ids = new HashSet<>();
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getObject(1, idType));
        }
      }
      return ids;
    }
  }

  @Override
  public String toString() {
    return "JdbcIdempotentSink[" + dialect + " " + table + "(" + String.join(", ", columns) + ")]";
  }

  /** Builds a {@link JdbcIdempotentSink}. Not thread-safe. */
  public static final class Builder<E, K> {
    private final DataSource dataSource;
    private final String table;
    private final String idColumn;
    private final Function<? super E, ? extends K> idOf;
    private final Class<K> idType;
    private final Map<String, Function<? super E, ?>> columns = new LinkedHashMap<>();
    private @Nullable SqlDialect dialect;
    private int rowsPerStatement = 500;

    private Builder(
        DataSource dataSource,
        String table,
        String idColumn,
        Function<? super E, ? extends K> idOf,
        Class<K> idType) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
      this.table = SqlIdentifiers.table("table", table);
      this.idColumn = SqlIdentifiers.column("idColumn", idColumn);
      this.idOf = Objects.requireNonNull(idOf, "idOf");
      this.idType = Objects.requireNonNull(idType, "idType");
      columns.put(idColumn, idOf);
    }

    /**
     * Another column and how to get its value from an event ({@code null} values are allowed).
     *
     * @throws IllegalArgumentException if the name is not a plain SQL identifier or is given twice
     */
    public Builder<E, K> column(String name, Function<? super E, ?> value) {
      SqlIdentifiers.column("column", name);
      Objects.requireNonNull(value, "value");
      if (columns.keySet().stream().anyMatch(c -> c.equalsIgnoreCase(name))) {
        throw new IllegalArgumentException("column '" + name + "' is given twice");
      }
      columns.put(name, value);
      return this;
    }

    /** The dialect; by default detected from the database's product name. */
    public Builder<E, K> dialect(SqlDialect dialect) {
      this.dialect = Objects.requireNonNull(dialect, "dialect");
      return this;
    }

    /** The most rows one INSERT/MERGE statement carries; at least 1; default 500. */
    public Builder<E, K> rowsPerStatement(int rows) {
      if (rows < 1) {
        throw new IllegalArgumentException("rowsPerStatement must be at least 1, was " + rows);
      }
      this.rowsPerStatement = rows;
      return this;
    }

    /**
     * Builds the sink, detecting the dialect if none was set.
     *
     * @throws SQLException if the dialect must be detected and no connection can be had
     */
    public JdbcIdempotentSink<E, K> build() throws SQLException {
      SqlDialect chosen = dialect != null ? dialect : SqlDialect.detect(dataSource);
      return new JdbcIdempotentSink<>(this, chosen);
    }
  }
}
