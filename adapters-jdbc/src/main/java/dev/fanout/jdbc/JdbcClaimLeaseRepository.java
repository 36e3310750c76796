package dev.fanout.jdbc;

import dev.fanout.lease.BatchOutcome;
import dev.fanout.lease.Claim;
import dev.fanout.lease.ClaimLeaseRepository;
import dev.fanout.lease.LeaseCounts;
import dev.fanout.lease.LeaseLostException;
import dev.fanout.lease.LeaseState;
import dev.fanout.lease.LeaseStoreException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ClaimLeaseRepository} on the rows of one table, over any {@link DataSource}: the
 * coordinator that lets several service instances share work through one PostgreSQL database
 * (or an embedded H2 one), with fencing.
 *
 * {@snippet file="dev/fanout/jdbc/snippets/JdbcSnippets.java" region="claim-lease"}
 *
 * <h2>Items</h2>
 *
 * An item is a row, told apart by its id column. {@link #forIds forIds} makes the items the ids
 * themselves ({@code Long}, {@code String}, {@code UUID}, ...); {@link #forRows forRows} maps each
 * claimed row to an item of yours with a {@link RowMapper} — the claim statement returns the
 * whole row, so the handler gets its data without another query. A row is PENDING, claimable
 * once, as soon as it is inserted (the lease columns' defaults say so); see {@link LeaseSchema}
 * for the DDL of a dedicated table or of lease columns added to an existing one.
 *
 * <h2>How it claims</h2>
 *
 * <ul>
 *   <li><b>PostgreSQL:</b> one statement, {@code WITH picked AS (SELECT id ... WHERE status =
 *       'PENDING' AND available_at <= now() ORDER BY available_at, id LIMIT n FOR UPDATE SKIP
 *       LOCKED) UPDATE ... SET status = 'CLAIMED', token = token + 1, ... FROM picked RETURNING
 *       ...}. Concurrent claimers skip each other's locked rows instead of queueing on them.
 *   <li><b>H2</b> has no {@code SKIP LOCKED}: it reads up to {@code n} candidate ids with their
 *       tokens, then changes them with one guarded compare-and-set, {@code UPDATE ... WHERE (id,
 *       token) IN ((?, ?), ...) AND status = 'PENDING'}, which H2 re-checks under its row locks.
 *       A candidate another claimer took in between fails its guard and is simply not returned;
 *       if every candidate was lost this way it tries again with fresh candidates.
 * </ul>
 *
 * <p>Every other call is fenced: it changes a row only if its id and token match the claim's and it
 * is still CLAIMED (renewal: and its lease has not ended), so a stale claim matches no row and
 * changes nothing. On PostgreSQL the claims are joined as arrays, {@code UPDATE ... FROM
 * unnest(?, ?) AS c(id, token) WHERE row.id = c.id AND row.token = c.token AND status =
 * 'CLAIMED'}: one statement text for any number of claims, found by primary key; on H2 {@code
 * WHERE (id, token) IN ((?, ?), ...)}. Batches ({@link #completeAll}, {@link #renewAll}) are one
 * statement per 500 claims. A complete, fail, release or give-back that matches no row reads the
 * item's row: if its token and owner are the claim's and it shows that very ending — COMPLETED,
 * FAILED, or PENDING with the attempts a release (as claimed) or a give-back (one less) leaves —
 * the call is a retry of one that took effect and returns normally, changing nothing ({@link
 * #completeAll} reports such claims as applied); otherwise it throws {@link LeaseLostException}
 * saying what it found. The reaper changes only rows that are still CLAIMED, with the token it
 * read, and whose lease has ended by the database's clock at the moment of the change; it clears
 * the owner column (so a reclaimed row is not taken for a released one), gives
 * back the attempt of a claim whose run was never {@linkplain #markStarted marked started} (the
 * started-at column, {@code lease_started_at} by default, see {@link LeaseSchema}), and spreads
 * the rows' {@code available_at} over the jitter with the database's own {@code random()} ({@code
 * RAND()} on H2).
 *
 * <h2>Time</h2>
 *
 * All lease times are computed by the database ({@code now()} on PostgreSQL, {@code
 * CURRENT_TIMESTAMP} on H2), never by the JVMs of the workers, so clock skew between service
 * instances does not matter.
 *
 * <h2>Connections</h2>
 *
 * Each call takes a connection from the data source and returns it; use a pool (HikariCP). A
 * connection with auto-commit on runs each statement in its own transaction; with auto-commit off
 * the call commits (or rolls back) its own work. Calls do not join an application transaction.
 * Expect {@code READ COMMITTED}, the default of both databases. SQL failures are thrown as {@link
 * LeaseStoreException}, {@linkplain LeaseStoreException#isTransient() transient} or not as {@link
 * SqlErrors#isTransient} says: a data, integrity or syntax error is not (so {@link
 * dev.fanout.lease.ClaimWorkers} does not retry it), a deadlock or a broken connection is.
 *
 * <h2>Schema check</h2>
 *
 * On its first connection the repository checks the table as {@link LeaseSchema#verify} does:
 * a lease column that is missing or of the wrong type (a pre-existing {@code lease_owner
 * INTEGER}, say), or a lease index that belongs to another table, fails that first call with an
 * {@link IllegalStateException} naming the column or index and what was expected; a missing index
 * is logged as a warning.
 *
 * <p>Thread-safe.
 *
 * @param <T> the item type
 *
 * <p>Why this class is long (~1,100 lines): each operation of the SPI is one SQL statement per
 * dialect plus the code that tells lease lost, already applied and store failure apart after it,
 * and those checks share the row-reading helpers; the schema lives in {@code LeaseSchema}, names in
 * {@code LeaseTable}, error classes in {@code SqlErrors}.
 */
public final class JdbcClaimLeaseRepository<T> implements ClaimLeaseRepository<T> {

  private static final Logger log = LoggerFactory.getLogger(JdbcClaimLeaseRepository.class);
  private static final int CLAIMS_PER_STATEMENT = 500;
  private static final int REAP_BATCH = 1000;
  private static final int H2_CLAIM_ROUNDS = 16;
  private static final Duration MAX_DURATION = Duration.ofDays(36_500);

  private final DataSource dataSource;
  private final LeaseTable table;
  private final RowMapper<T> mapper;
  private final Function<? super T, ?> idOf;
  private final boolean wholeRows;
  private final int errorLength;

  /** PostgreSQL statements, built once: their text does not depend on the number of claims. */
  private final ConcurrentHashMap<String, String> statements = new ConcurrentHashMap<>();

  private volatile @Nullable SqlDialect dialect;
  private volatile boolean schemaChecked;

  private JdbcClaimLeaseRepository(Builder<T> b) {
    this.dataSource = b.dataSource;
    this.table = b.table;
    this.wholeRows = b.rowMapper != null;
    if (b.rowMapper != null) {
      this.mapper = b.rowMapper;
      this.idOf = Objects.requireNonNull(b.idOf);
    } else {
      Class<T> type = Objects.requireNonNull(b.idType);
      String id = b.table.idColumn();
      this.mapper = rs -> Objects.requireNonNull(rs.getObject(id, type), "id");
      this.idOf = Function.identity();
    }
    this.errorLength = b.errorLength;
    this.dialect = b.dialect;
  }

  /**
   * A builder of a repository whose items are the ids of the rows, of type {@code idType} (read
   * with {@code ResultSet.getObject(column, idType)}: {@code Long}, {@code Integer}, {@code
   * String}, {@code UUID}, ...).
   */
  public static <T> Builder<T> forIds(DataSource dataSource, Class<T> idType) {
    return new Builder<>(dataSource, Objects.requireNonNull(idType, "idType"), null, null);
  }

  /**
   * A builder of a repository whose items are made from whole rows by {@code rowMapper}; {@code
   * idOf} gives an item's id, the value of the id column (items are told apart by it).
   */
  public static <T> Builder<T> forRows(
      DataSource dataSource, RowMapper<T> rowMapper, Function<? super T, ?> idOf) {
    return new Builder<>(
        dataSource,
        null,
        Objects.requireNonNull(rowMapper, "rowMapper"),
        Objects.requireNonNull(idOf, "idOf"));
  }

  /** The table and columns the leases live in. */
  public LeaseTable table() {
    return table;
  }

  /**
   * The database's dialect, as configured or detected from the first connection.
   *
   * @throws LeaseStoreException if it had to be detected and no connection could be had
   */
  public SqlDialect dialect() {
    return run("detect dialect", (c, d) -> d);
  }

  // ---------------------------------------------------------------------------------------------
  // Claiming

  @Override
  public List<Claim<T>> claim(String workerId, int limit, Duration lease) {
    Objects.requireNonNull(workerId, "workerId must not be null");
    if (workerId.isBlank()) {
      throw new IllegalArgumentException("workerId must not be blank, was \"" + workerId + "\"");
    }
    if (workerId.length() > 255) {
      throw new IllegalArgumentException(
          "workerId must be at most 255 characters, was " + workerId.length());
    }
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, was " + limit);
    }
    long micros = micros("lease", lease);
    return run(
        "claim",
        (c, d) ->
            d == SqlDialect.POSTGRESQL
                ? claimPostgres(c, workerId, limit, micros)
                : claimH2(c, workerId, limit, micros));
  }

  private List<Claim<T>> claimPostgres(Connection c, String workerId, int limit, long micros)
      throws SQLException {
    String sql =
        cached(
            SqlDialect.POSTGRESQL,
            """
            WITH picked AS (
              SELECT {id} FROM {table}
              WHERE {status} = 'PENDING' AND {available_at} <= {now}
              ORDER BY {available_at}, {id} LIMIT ? FOR UPDATE SKIP LOCKED)
            UPDATE {table} AS fanout_row SET
              {status} = 'CLAIMED', {token} = fanout_row.{token} + 1, {owner} = ?,
              {claimed_at} = {now}, {until} = {now_plus}, {attempts} = fanout_row.{attempts} + 1,
              {started_at} = NULL
            FROM picked WHERE fanout_row.{id} = picked.{id}
            RETURNING {claim_columns}\
            """);
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setInt(1, limit);
      ps.setString(2, workerId);
      ps.setLong(3, micros);
      return readClaims(ps, workerId);
    }
  }

  private List<Claim<T>> claimH2(Connection c, String workerId, int limit, long micros)
      throws SQLException {
    // Ordered as the index (status, available_at, id) is, so that H2 reads it in order.
    String candidates =
        cached(
            SqlDialect.H2,
            """
            SELECT {id}, {token} FROM {table}
            WHERE {status} = 'PENDING' AND {available_at} <= {now}
            ORDER BY {status}, {available_at}, {id} LIMIT ?\
            """);
    for (int round = 0; round < H2_CLAIM_ROUNDS; round++) {
      List<Object> ids = new ArrayList<>(limit);
      List<Long> tokens = new ArrayList<>(limit);
      try (PreparedStatement ps = c.prepareStatement(candidates)) {
        ps.setInt(1, limit);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ids.add(rs.getObject(1));
            tokens.add(rs.getLong(2));
          }
        }
      }
      if (ids.isEmpty()) {
        return List.of();
      }
      // The compare-and-set: only rows still PENDING with the token we read.
      String sql =
          render(
                  SqlDialect.H2,
                  """
                  SELECT {claim_columns} FROM FINAL TABLE (UPDATE {table} SET
                    {status} = 'CLAIMED', {token} = {token} + 1, {owner} = ?,
                    {claimed_at} = {now}, {until} = {now_plus}, {attempts} = {attempts} + 1,
                    {started_at} = NULL
                  WHERE ({id}, {token}) IN ({pairs})
                    AND {status} = 'PENDING' AND {available_at} <= {now})\
                  """)
              .replace("{pairs}", pairs(ids.size()));
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        int p = 1;
        ps.setString(p++, workerId);
        ps.setLong(p++, micros);
        for (int i = 0; i < ids.size(); i++) {
          ps.setObject(p++, ids.get(i));
          ps.setLong(p++, tokens.get(i));
        }
        List<Claim<T>> claims = readClaims(ps, workerId);
        if (!claims.isEmpty()) {
          return claims;
        }
      }
      // Every candidate went to another claimer between our read and our update: read again.
    }
    return List.of();
  }

  private List<Claim<T>> readClaims(PreparedStatement ps, String workerId) throws SQLException {
    List<Claim<T>> claims = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        T item = mapper.map(rs);
        claims.add(
            new Claim<>(
                item,
                workerId,
                rs.getLong(table.tokenColumn()),
                instant(rs, table.claimedAtColumn()),
                instant(rs, table.leaseUntilColumn()),
                rs.getInt(table.attemptsColumn())));
      }
    }
    return claims;
  }

  // ---------------------------------------------------------------------------------------------
  // Fenced calls

  /**
   * A fenced change: its {@code SET} clause and extra guard as templates, how many parameters the
   * {@code SET} clause takes (set by the caller before the claims' ids and tokens), and, for a
   * change that ends a claim, how a row it was applied to looks afterwards.
   */
  private record Change(
      String name, String set, String guard, int parameters, @Nullable Ending ends) {}

  /**
   * How a row shows that the claim with its token ended it, and how: the token and owner stay, so
   * the status tells COMPLETED and FAILED; a PENDING row was released (attempts as claimed),
   * given back (one attempt less) or, with no owner, reclaimed by the reaper.
   */
  private enum Ending {
    COMPLETED,
    FAILED,
    RELEASED,
    GIVEN_BACK;

    boolean shownBy(Found row, Claim<?> claim) {
      if (row.token() != claim.token() || !claim.workerId().equals(row.owner())) {
        return false;
      }
      return switch (this) {
        case COMPLETED -> row.is(LeaseState.COMPLETED);
        case FAILED -> row.is(LeaseState.FAILED);
        case RELEASED -> row.is(LeaseState.PENDING) && row.attempts() == claim.attempt();
        case GIVEN_BACK -> row.is(LeaseState.PENDING) && row.attempts() == claim.attempt() - 1;
      };
    }
  }

  /** An item's row, as far as a refused fenced call needs it. */
  private record Found(
      String status, long token, @Nullable String owner, @Nullable OffsetDateTime until, int attempts) {
    boolean is(LeaseState state) {
      return state.name().equalsIgnoreCase(status);
    }
  }

  private static final Change COMPLETE =
      new Change("complete", "{status} = 'COMPLETED', {until} = NULL", "", 0, Ending.COMPLETED);
  private static final Change RENEW =
      new Change("renew", "{until} = {now_plus}", "{live_lease}", 1, null);
  private static final Change MARK_STARTED =
      new Change(
          "mark started", "{started_at} = COALESCE({started_at}, {now})", "{live_lease}", 0, null);
  private static final Change RELEASE =
      new Change(
          "release",
          "{status} = 'PENDING', {until} = NULL, {available_at} = {now_plus}",
          "",
          1,
          Ending.RELEASED);
  private static final Change GIVE_BACK =
      new Change(
          "give back",
          "{status} = 'PENDING', {until} = NULL, {available_at} = {now},"
              + " {attempts} = {attempts} - 1",
          "",
          0,
          Ending.GIVEN_BACK);
  private static final Change FAIL =
      new Change("fail", "{status} = 'FAILED', {until} = NULL, {error} = ?", "", 1, Ending.FAILED);

  @Override
  public Claim<T> renew(Claim<T> claim, Duration lease) {
    Objects.requireNonNull(claim, "claim must not be null");
    long micros = micros("lease", lease);
    return run(
        RENEW.name(),
        (c, d) -> {
          Map<Object, @Nullable Instant> applied =
              fenced(c, d, RENEW, ps -> ps.setLong(1, micros), List.of(claim));
          if (applied.isEmpty()) {
            throw refusal(found(c, claim), claim);
          }
          return claim.withLeaseUntil(Objects.requireNonNull(applied.values().iterator().next()));
        });
  }

  @Override
  public void markStarted(Claim<T> claim) {
    single(MARK_STARTED, claim, null);
  }

  @Override
  public void complete(Claim<T> claim) {
    single(COMPLETE, claim, null);
  }

  @Override
  public void release(Claim<T> claim, Duration retryAfter) {
    Objects.requireNonNull(retryAfter, "retryAfter must not be null");
    if (retryAfter.isNegative()) {
      throw new IllegalArgumentException("retryAfter must not be negative, was " + retryAfter);
    }
    long micros = retryAfter.isZero() ? 0 : micros("retryAfter", retryAfter);
    single(RELEASE, claim, ps -> ps.setLong(1, micros));
  }

  @Override
  public void giveBack(Claim<T> claim) {
    single(GIVE_BACK, claim, null);
  }

  @Override
  public void fail(Claim<T> claim, String reason) {
    Objects.requireNonNull(reason, "reason must not be null");
    String cut = reason.length() > errorLength ? reason.substring(0, errorLength) : reason;
    single(FAIL, claim, ps -> ps.setString(1, cut));
  }

  @Override
  public BatchOutcome<T> renewAll(Collection<Claim<T>> claims, Duration lease) {
    Objects.requireNonNull(claims, "claims must not be null");
    long micros = micros("lease", lease);
    return batch(RENEW, claims, ps -> ps.setLong(1, micros));
  }

  @Override
  public BatchOutcome<T> completeAll(Collection<Claim<T>> claims) {
    Objects.requireNonNull(claims, "claims must not be null");
    return batch(COMPLETE, claims, null);
  }

  private void single(Change change, Claim<T> claim, @Nullable ParameterSetter parameters) {
    Objects.requireNonNull(claim, "claim must not be null");
    run(
        change.name(),
        (c, d) -> {
          if (fenced(c, d, change, parameters, List.of(claim)).isEmpty()) {
            Found row = found(c, claim);
            Ending ends = change.ends();
            if (row != null && ends != null && ends.shownBy(row, claim)) {
              return null; // this claim did it already: a retry whose first reply was lost
            }
            throw refusal(row, claim);
          }
          return null;
        });
  }

  private BatchOutcome<T> batch(
      Change change, Collection<Claim<T>> claims, @Nullable ParameterSetter parameters) {
    if (claims.isEmpty()) {
      return new BatchOutcome<>(List.of(), List.of());
    }
    List<Claim<T>> all = List.copyOf(claims);
    return run(
        change.name() + " " + all.size() + " claims",
        (c, d) -> {
          List<Claim<T>> applied = new ArrayList<>(all.size());
          List<Claim<T>> lost = new ArrayList<>();
          for (int from = 0; from < all.size(); from += CLAIMS_PER_STATEMENT) {
            List<Claim<T>> chunk =
                all.subList(from, Math.min(all.size(), from + CLAIMS_PER_STATEMENT));
            Map<Object, @Nullable Instant> done = fenced(c, d, change, parameters, chunk);
            for (Claim<T> claim : chunk) {
              Object key = fenceKey(idOf(claim), claim.token());
              if (done.containsKey(key)) {
                Instant until = done.get(key);
                applied.add(until == null ? claim : claim.withLeaseUntil(until));
              } else {
                lost.add(claim);
              }
            }
          }
          Ending ends = change.ends();
          if (ends != null && !lost.isEmpty()) {
            // Claims that ended their items this way already (a batch sent again after its reply
            // was lost) count as applied.
            List<Claim<T>> refused = lost;
            lost = new ArrayList<>();
            for (int from = 0; from < refused.size(); from += CLAIMS_PER_STATEMENT) {
              List<Claim<T>> chunk =
                  refused.subList(from, Math.min(refused.size(), from + CLAIMS_PER_STATEMENT));
              Map<Object, Found> rows = foundAll(c, chunk);
              for (Claim<T> claim : chunk) {
                Found row = rows.get(fenceKey(idOf(claim), claim.token()));
                if (row != null && ends.shownBy(row, claim)) {
                  applied.add(claim);
                } else {
                  lost.add(claim);
                }
              }
            }
          }
          return new BatchOutcome<>(applied, lost);
        });
  }

  /** The item's row, or null if the table holds no such item. */
  private @Nullable Found found(Connection c, Claim<T> claim) throws SQLException {
    String sql =
        render(
            SqlDialect.H2,
            "SELECT {status}, {token}, {owner}, {until}, {attempts} FROM {table} WHERE {id} = ?");
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, idOf(claim));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? found(rs, 1) : null;
      }
    }
  }

  /** The rows of these claims' items, by the (id, token) key of each row. */
  private Map<Object, Found> foundAll(Connection c, List<Claim<T>> claims) throws SQLException {
    StringBuilder ids = new StringBuilder(claims.size() * 3);
    for (int i = 0; i < claims.size(); i++) {
      ids.append(i == 0 ? "?" : ", ?");
    }
    String sql =
        render(
                SqlDialect.H2,
                "SELECT {id}, {status}, {token}, {owner}, {until}, {attempts} FROM {table}"
                    + " WHERE {id} IN ({ids})")
            .replace("{ids}", ids);
    Map<Object, Found> rows = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < claims.size(); i++) {
        ps.setObject(i + 1, idOf(claims.get(i)));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Found row = found(rs, 2);
          rows.put(fenceKey(rs.getObject(1), row.token()), row);
        }
      }
    }
    return rows;
  }

  private static Found found(ResultSet rs, int first) throws SQLException {
    return new Found(
        rs.getString(first),
        rs.getLong(first + 1),
        rs.getString(first + 2),
        rs.getObject(first + 3, OffsetDateTime.class),
        rs.getInt(first + 4));
  }

  /**
   * Applies {@code change} to the rows whose id and token match a claim's and that are still
   * CLAIMED, and returns the (id, token) keys of the rows it changed, with their lease end.
   */
  private Map<Object, @Nullable Instant> fenced(
      Connection c,
      SqlDialect d,
      Change change,
      @Nullable ParameterSetter parameters,
      List<Claim<T>> claims)
      throws SQLException {
    List<Object> ids = new ArrayList<>(claims.size());
    Long[] tokens = new Long[claims.size()];
    for (int i = 0; i < claims.size(); i++) {
      ids.add(idOf(claims.get(i)));
      tokens[i] = claims.get(i).token();
    }
    String arrayType = d == SqlDialect.POSTGRESQL ? postgresArrayType(ids) : null;
    String sql;
    if (arrayType != null) {
      // One statement text for any number of claims, the rows found by primary key: a long
      // (id, token) IN (...) list is planned anew for every length, and badly as a generic plan.
      sql =
          cached(
              d,
              """
              UPDATE {table} AS fanout_row SET {set}
              FROM unnest(?, ?) AS fanout_claim(fanout_claim_id, fanout_claim_token)
              WHERE fanout_row.{id} = fanout_claim.fanout_claim_id
                AND fanout_row.{token} = fanout_claim.fanout_claim_token
                AND fanout_row.{status} = 'CLAIMED'{guard}
              RETURNING fanout_row.{id}, fanout_row.{token}, fanout_row.{until}\
              """
                  .replace("{set}", change.set())
                  .replace("{guard}", change.guard()));
    } else {
      String update =
          """
          UPDATE {table} SET {set}
          WHERE ({id}, {token}) IN ({pairs}) AND {status} = 'CLAIMED'{guard}\
          """
              .replace("{set}", change.set())
              .replace("{guard}", change.guard());
      sql =
          render(
                  d,
                  d == SqlDialect.POSTGRESQL
                      ? update + " RETURNING {id}, {token}, {until}"
                      : "SELECT {id}, {token}, {until} FROM FINAL TABLE (" + update + ")")
              .replace("{pairs}", pairs(claims.size()));
    }
    Map<Object, @Nullable Instant> applied = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      if (parameters != null) {
        parameters.set(ps);
      }
      int p = change.parameters() + 1;
      if (arrayType != null) {
        ps.setArray(p++, c.createArrayOf(arrayType, ids.toArray()));
        ps.setArray(p, c.createArrayOf("int8", tokens));
      } else {
        for (int i = 0; i < ids.size(); i++) {
          ps.setObject(p++, ids.get(i));
          ps.setLong(p++, tokens[i]);
        }
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          OffsetDateTime until = rs.getObject(3, OffsetDateTime.class);
          applied.put(
              fenceKey(rs.getObject(1), rs.getLong(2)), until == null ? null : until.toInstant());
        }
      }
    }
    return applied;
  }

  /** The PostgreSQL array element type for these ids, or null to fall back to a list. */
  private static @Nullable String postgresArrayType(List<Object> ids) {
    Class<?> type = ids.get(0).getClass();
    for (Object id : ids) {
      if (id.getClass() != type) {
        return null;
      }
    }
    if (type == Long.class) {
      return "int8";
    } else if (type == Integer.class) {
      return "int4";
    } else if (type == Short.class) {
      return "int2";
    } else if (type == String.class) {
      return "text";
    } else if (type == java.util.UUID.class) {
      return "uuid";
    } else if (type == BigDecimal.class) {
      return "numeric";
    }
    return null;
  }

  /**
   * Why a fenced call on {@code claim} changed nothing, given the item's row (null: there is
   * none): unknown claim, or lease lost.
   */
  private RuntimeException refusal(@Nullable Found row, Claim<T> claim) {
    if (row == null) {
      return new IllegalArgumentException(
          "unknown claim: table " + table.table() + " holds no item " + claim.item());
    }
    String status = row.status();
    long token = row.token();
    if (claim.token() > token) {
      return new IllegalArgumentException(
          "unknown claim: token "
              + claim.token()
              + " was never issued for item "
              + claim.item()
              + " (the latest is "
              + token
              + ")");
    }
    String detail;
    if (token != claim.token()) {
      detail =
          row.is(LeaseState.CLAIMED)
              ? "now claimed by " + row.owner() + " with token " + token
              : "it was claimed again since (token " + token + ") and is now " + status;
    } else {
      OffsetDateTime until = row.until();
      detail =
          switch (status.toUpperCase(Locale.ROOT)) {
            case "CLAIMED" ->
                "its lease ended at "
                    + (until == null ? "?" : until.toInstant())
                    + " and was not renewed";
            case "PENDING" -> "it is pending again (" + pendingAgain(row, claim) + ")";
            case "COMPLETED" -> "it is completed";
            case "FAILED" -> "it has failed";
            default -> "its status is " + status;
          };
    }
    return new LeaseLostException(claim, detail);
  }

  private static String pendingAgain(Found row, Claim<?> claim) {
    if (row.owner() == null) {
      return "reclaimed after its lease ended";
    } else if (!row.owner().equals(claim.workerId())) {
      return "returned by " + row.owner();
    } else if (row.attempts() == claim.attempt()) {
      return "released by this claim";
    } else if (row.attempts() == claim.attempt() - 1) {
      return "given back by this claim";
    }
    return "returned by this claim";
  }

  // ---------------------------------------------------------------------------------------------
  // Reaper and counts

  @Override
  public int reclaimExpired(Duration jitter) {
    Objects.requireNonNull(jitter, "jitter must not be null");
    if (jitter.isNegative()) {
      throw new IllegalArgumentException("jitter must not be negative, was " + jitter);
    }
    long jitterMicros = jitter.isZero() ? 0 : micros("jitter", jitter);
    return run(
        "reclaim expired leases",
        (c, d) -> {
          int total = 0;
          while (true) {
            int[] step =
                d == SqlDialect.POSTGRESQL
                    ? reclaimPostgres(c, jitterMicros)
                    : reclaimH2(c, jitterMicros);
            total += step[1];
            if (step[0] < REAP_BATCH) {
              return total;
            }
          }
        });
  }

  /** One batch: {candidates seen, rows returned}. */
  private int[] reclaimPostgres(Connection c, long jitterMicros) throws SQLException {
    // Rows a renewal is changing are locked: skipped now, and looked at again next time.
    String sql =
        cached(
            SqlDialect.POSTGRESQL,
            """
            WITH expired AS (
              SELECT {id}, {token} FROM {table}
              WHERE {status} = 'CLAIMED' AND {until} <= {now}
              ORDER BY {until} LIMIT {reap_batch} FOR UPDATE SKIP LOCKED)
            UPDATE {table} AS fanout_row SET
              {status} = 'PENDING', {owner} = NULL, {until} = NULL, {available_at} = {now_jitter},
              {attempts} = fanout_row.{attempts}
                - CASE WHEN fanout_row.{started_at} IS NULL THEN 1 ELSE 0 END
            FROM expired
            WHERE fanout_row.{id} = expired.{id} AND fanout_row.{token} = expired.{token}
              AND fanout_row.{status} = 'CLAIMED' AND fanout_row.{until} <= {now}\
            """);
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, jitterMicros);
      int n = ps.executeUpdate();
      return new int[] {n, n};
    }
  }

  private int[] reclaimH2(Connection c, long jitterMicros) throws SQLException {
    String candidates =
        cached(
            SqlDialect.H2,
            """
            SELECT {id}, {token} FROM {table}
            WHERE {status} = 'CLAIMED' AND {until} <= {now}
            ORDER BY {status}, {until} LIMIT {reap_batch}\
            """);
    List<Object> ids = new ArrayList<>();
    List<Long> tokens = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(candidates);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        ids.add(rs.getObject(1));
        tokens.add(rs.getLong(2));
      }
    }
    if (ids.isEmpty()) {
      return new int[] {0, 0};
    }
    // Guarded by token and by expiry at the moment of the change: a renewal in between wins.
    String sql =
        render(
                SqlDialect.H2,
                """
                UPDATE {table} SET {status} = 'PENDING', {owner} = NULL, {until} = NULL,
                  {available_at} = {now_jitter},
                  {attempts} = {attempts} - CASE WHEN {started_at} IS NULL THEN 1 ELSE 0 END
                WHERE ({id}, {token}) IN ({pairs})
                  AND {status} = 'CLAIMED' AND {until} <= {now}\
                """)
            .replace("{pairs}", pairs(ids.size()));
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int p = 1;
      ps.setLong(p++, jitterMicros);
      for (int i = 0; i < ids.size(); i++) {
        ps.setObject(p++, ids.get(i));
        ps.setLong(p++, tokens.get(i));
      }
      return new int[] {ids.size(), ps.executeUpdate()};
    }
  }

  @Override
  public LeaseCounts counts() {
    String sql = render(SqlDialect.H2, "SELECT {status}, COUNT(*) FROM {table} GROUP BY {status}");
    return run(
        "count",
        (c, d) -> {
          Map<String, Long> byStatus = new HashMap<>();
          try (PreparedStatement ps = c.prepareStatement(sql);
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              byStatus.put(rs.getString(1).toUpperCase(Locale.ROOT), rs.getLong(2));
            }
          }
          return new LeaseCounts(
              byStatus.getOrDefault("PENDING", 0L),
              byStatus.getOrDefault("CLAIMED", 0L),
              byStatus.getOrDefault("COMPLETED", 0L),
              byStatus.getOrDefault("FAILED", 0L));
        });
  }

  /** The database's clock now. */
  public Instant databaseTime() {
    return run(
        "read the clock",
        (c, d) -> {
          try (PreparedStatement ps =
                  c.prepareStatement(
                      d == SqlDialect.POSTGRESQL ? "SELECT now()" : "SELECT CURRENT_TIMESTAMP");
              ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getObject(1, OffsetDateTime.class).toInstant();
          }
        });
  }

  @Override
  public String toString() {
    SqlDialect d = dialect;
    return "JdbcClaimLeaseRepository[" + table.table() + (d == null ? "" : ", " + d) + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  @FunctionalInterface
  private interface ParameterSetter {
    void set(PreparedStatement ps) throws SQLException;
  }

  @FunctionalInterface
  private interface Work<R> {
    R apply(Connection connection, SqlDialect dialect) throws SQLException;
  }

  private <R> R run(String op, Work<R> work) {
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      try {
        SqlDialect d = dialectOf(c);
        checkSchema(c, d);
        R result = work.apply(c, d);
        if (!autoCommit) {
          c.commit();
        }
        return result;
      } catch (SQLException | RuntimeException e) {
        if (!autoCommit) {
          try {
            c.rollback();
          } catch (SQLException rollback) {
            e.addSuppressed(rollback);
          }
        }
        throw e;
      }
    } catch (SQLException e) {
      throw new LeaseStoreException(
          op + " on table " + table.table() + " failed: " + e.getMessage(),
          e,
          SqlErrors.isTransient(e));
    }
  }

  /** On the first connection: the table must fit (see {@link LeaseSchema#verify}). */
  private void checkSchema(Connection c, SqlDialect d) throws SQLException {
    if (schemaChecked) {
      return;
    }
    List<String> missing = LeaseSchema.check(c, d, table);
    if (!missing.isEmpty()) {
      log.warn(
          "table {} has no lease index {}: claims and the reaper may read the whole table",
          table.table(),
          String.join(" or ", missing));
    }
    schemaChecked = true;
  }

  private SqlDialect dialectOf(Connection c) throws SQLException {
    SqlDialect d = dialect;
    if (d == null) {
      String product = c.getMetaData().getDatabaseProductName();
      String name = product.toLowerCase(Locale.ROOT);
      if (name.contains("postgresql")) {
        d = SqlDialect.POSTGRESQL;
      } else if (name.equals("h2")) {
        d = SqlDialect.H2;
      } else {
        throw new IllegalArgumentException(
            "database '" + product + "' is not supported; supported: PostgreSQL, H2");
      }
      dialect = d;
    }
    return d;
  }

  /** A statement from a template, rendered once per dialect and kept. */
  private String cached(SqlDialect d, String template) {
    return statements.computeIfAbsent(d + template, k -> render(d, template));
  }

  /**
   * Fills a template's placeholders: {@code {table}}, {@code {id}} and the lease columns by their
   * configured (and checked) names; {@code {now}} and {@code {now_plus}} (the clock plus a
   * parameter in microseconds) in the dialect's words.
   */
  private String render(SqlDialect d, String template) {
    LeaseTable t = table;
    String startedAt = LeaseSchema.startedAtColumn(t);
    boolean pg = d == SqlDialect.POSTGRESQL;
    String liveLease =
        pg
            // Written so that the planner does not take the lease_until index (built for the
            // reaper) to find a few rows by id: with statistics from when few items were
            // claimed it would read every live lease per statement.
            ? " AND COALESCE({until}, '-infinity') > {now}"
            : " AND {until} > {now}";
    return template
        .replace("{live_lease}", liveLease)
        .replace("{claim_columns}", claimColumns(pg ? "fanout_row." : ""))
        .replace(
            "{now_plus}",
            pg
                ? "{now} + CAST(? AS BIGINT) * INTERVAL '1 microsecond'"
                : "DATEADD(MICROSECOND, CAST(? AS BIGINT), {now})")
        .replace(
            "{now_jitter}",
            // The database's random() per row: items reclaimed together come back apart.
            pg
                ? "{now} + CAST(? AS BIGINT) * random() * INTERVAL '1 microsecond'"
                : "DATEADD(MICROSECOND, CAST(CAST(? AS BIGINT) * RAND() AS BIGINT), {now})")
        .replace("{now}", pg ? "now()" : "CURRENT_TIMESTAMP")
        .replace("{reap_batch}", Integer.toString(REAP_BATCH))
        .replace("{table}", t.table())
        .replace("{id}", t.idColumn())
        .replace("{status}", t.statusColumn())
        .replace("{token}", t.tokenColumn())
        .replace("{owner}", t.ownerColumn())
        .replace("{claimed_at}", t.claimedAtColumn())
        .replace("{until}", t.leaseUntilColumn())
        .replace("{available_at}", t.availableAtColumn())
        .replace("{attempts}", t.attemptsColumn())
        .replace("{error}", t.errorColumn())
        .replace("{started_at}", startedAt);
  }

  private String claimColumns(String prefix) {
    if (wholeRows) {
      return prefix + "*";
    }
    return String.join(
        ", ",
        prefix + "{id}",
        prefix + "{token}",
        prefix + "{claimed_at}",
        prefix + "{until}",
        prefix + "{attempts}");
  }

  private static String pairs(int n) {
    StringBuilder sb = new StringBuilder(n * 8);
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "(?, ?)" : ", (?, ?)");
    }
    return sb.toString();
  }

  private Object idOf(Claim<T> claim) {
    return Objects.requireNonNull(idOf.apply(claim.item()), "the id of " + claim.item());
  }

  /**
   * A key for an (id, token) pair that does not depend on how the driver boxes the id: ids the
   * caller gave as {@code Integer} come back from the database as {@code Long}, for example.
   */
  private static Object fenceKey(Object id, long token) {
    Object normal;
    if (id instanceof Long || id instanceof Integer || id instanceof Short || id instanceof Byte) {
      normal = ((Number) id).longValue();
    } else if (id instanceof BigInteger b && b.bitLength() < 64) {
      normal = b.longValue();
    } else if (id instanceof BigDecimal b
        && b.stripTrailingZeros().scale() <= 0
        && b.toBigInteger().bitLength() < 64) {
      normal = b.longValue();
    } else {
      normal = id.toString();
    }
    return List.of(normal, token);
  }

  private static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
    if (value == null) {
      throw new SQLException("column " + column + " is null in a claimed row");
    }
    return value.toInstant();
  }

  private static long micros(String field, Duration d) {
    Objects.requireNonNull(d, field + " must not be null");
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(field + " must be positive, was " + d);
    }
    if (d.compareTo(MAX_DURATION) > 0) {
      throw new IllegalArgumentException(
          field + " must be at most " + MAX_DURATION.toDays() + " days, was " + d);
    }
    long micros = d.toNanos() / 1000;
    return d.toNanos() % 1000 == 0 ? micros : micros + 1;
  }

  /** Builds a {@link JdbcClaimLeaseRepository}. Not thread-safe. */
  public static final class Builder<T> {
    private final DataSource dataSource;
    private final @Nullable Class<T> idType;
    private final @Nullable RowMapper<T> rowMapper;
    private final @Nullable Function<? super T, ?> idOf;
    private LeaseTable table = LeaseTable.defaults();
    private @Nullable SqlDialect dialect;
    private int errorLength = LeaseSchema.ERROR_LENGTH;

    private Builder(
        DataSource dataSource,
        @Nullable Class<T> idType,
        @Nullable RowMapper<T> rowMapper,
        @Nullable Function<? super T, ?> idOf) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource must not be null");
      this.idType = idType;
      this.rowMapper = rowMapper;
      this.idOf = idOf;
    }

    /** The table and columns; default {@link LeaseTable#defaults()}. */
    public Builder<T> table(LeaseTable table) {
      this.table = Objects.requireNonNull(table, "table must not be null");
      return this;
    }

    /** The dialect, instead of detecting it from the first connection. */
    public Builder<T> dialect(SqlDialect dialect) {
      this.dialect = Objects.requireNonNull(dialect, "dialect must not be null");
      return this;
    }

    /**
     * The length of the error column: longer failure reasons are cut to it. Default {@value
     * LeaseSchema#ERROR_LENGTH}, as in {@link LeaseSchema}.
     */
    public Builder<T> errorLength(int errorLength) {
      if (errorLength < 1) {
        throw new IllegalArgumentException("errorLength must be at least 1, was " + errorLength);
      }
      this.errorLength = errorLength;
      return this;
    }

    /** Builds the repository; it connects on first use, not now. */
    public JdbcClaimLeaseRepository<T> build() {
      return new JdbcClaimLeaseRepository<>(this);
    }
  }
}
