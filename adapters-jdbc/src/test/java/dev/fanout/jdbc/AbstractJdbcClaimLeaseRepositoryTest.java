package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.lease.BatchOutcome;
import dev.fanout.lease.Claim;
import dev.fanout.lease.LeaseCounts;
import dev.fanout.lease.LeaseLostException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * What the conformance kit cannot see from outside the SPI: races against statements in flight,
 * the shapes of tables and ids, and how the repository treats its connections. Runs on H2 and
 * PostgreSQL.
 */
abstract class AbstractJdbcClaimLeaseRepositoryTest {
  private static final Duration LONG = Duration.ofMinutes(10);

  protected abstract DataSource dataSource();

  protected abstract SqlDialect dialect();

  /** A pool like {@link #dataSource()} but with auto-commit off. */
  protected abstract HikariConfig poolConfig();

  private JdbcClaimLeaseRepository<Long> dedicated(String name) {
    LeaseTable table = LeaseTable.named(name);
    Pools.execute(dataSource(), "DROP TABLE IF EXISTS " + name);
    Pools.execute(dataSource(), LeaseSchema.createTable(dialect(), table).toArray(String[]::new));
    return JdbcClaimLeaseRepository.forIds(dataSource(), Long.class).table(table).build();
  }

  private static void awaitDatabaseTimeAfter(JdbcClaimLeaseRepository<?> repository, Instant t) {
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(10))
        .until(() -> repository.databaseTime().isAfter(t));
  }

  /** Blocked in a lock wait (H2), or already done (PostgreSQL skips locked rows). */
  private static void awaitBlockedOrDone(Thread thread, CompletableFuture<?> result) {
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(5))
        .until(
            () ->
                result.isDone()
                    || EnumSet.of(
                            Thread.State.WAITING, Thread.State.TIMED_WAITING, Thread.State.BLOCKED)
                        .contains(thread.getState()));
  }

  @Test
  void dialectIsDetected() {
    assertThat(dedicated("detect_item").dialect()).isEqualTo(dialect());
  }

  /**
   * A renewal has changed the row but not yet committed when the lease's old end passes and the
   * reaper reads the row: the reaper must not take the lease once the renewal commits.
   */
  @Test
  void reaperLeavesALeaseWhoseRenewalWasInFlight() throws Exception {
    JdbcClaimLeaseRepository<Long> repository = dedicated("race_item");
    Pools.execute(dataSource(), "INSERT INTO race_item (id) VALUES (1)");
    Claim<Long> claim = repository.claim("renewer", 1, Duration.ofSeconds(2)).get(0);
    String now = dialect() == SqlDialect.POSTGRESQL ? "now()" : "CURRENT_TIMESTAMP";
    String plusMinute =
        dialect() == SqlDialect.POSTGRESQL
            ? "now() + INTERVAL '1 minute'"
            : "DATEADD(MINUTE, 1, CURRENT_TIMESTAMP)";

    try (Connection renewal = dataSource().getConnection()) {
      renewal.setAutoCommit(false);
      try (PreparedStatement ps =
          renewal.prepareStatement(
              "UPDATE race_item SET lease_until = "
                  + plusMinute
                  + " WHERE id = 1 AND lease_token = ? AND lease_status = 'CLAIMED'"
                  + " AND lease_until > "
                  + now)) {
        ps.setLong(1, claim.token());
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }
      awaitDatabaseTimeAfter(repository, claim.leaseUntil());
      CompletableFuture<Integer> reaped = new CompletableFuture<>();
      Thread reaper =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      reaped.complete(repository.reclaimExpired());
                    } catch (Throwable t) {
                      reaped.completeExceptionally(t);
                    }
                  });
      awaitBlockedOrDone(reaper, reaped);
      renewal.commit();
      assertThat(reaped.get(10, TimeUnit.SECONDS)).isZero();
    }

    assertThat(repository.reclaimExpired()).isZero();
    repository.complete(claim);
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 1, 0));
  }

  /** The reaper has taken the row but not yet committed: a renewal then must report lease lost. */
  @Test
  void renewalThatWaitedForTheReaperReportsLeaseLost() throws Exception {
    JdbcClaimLeaseRepository<Long> repository = dedicated("race_item");
    Pools.execute(dataSource(), "INSERT INTO race_item (id) VALUES (1)");
    Claim<Long> claim = repository.claim("renewer", 1, Duration.ofMillis(500)).get(0);
    awaitDatabaseTimeAfter(repository, claim.leaseUntil());
    String now = dialect() == SqlDialect.POSTGRESQL ? "now()" : "CURRENT_TIMESTAMP";

    try (Connection reaper = dataSource().getConnection()) {
      reaper.setAutoCommit(false);
      try (PreparedStatement ps =
          reaper.prepareStatement(
              "UPDATE race_item SET lease_status = 'PENDING', lease_until = NULL,"
                  + " lease_available_at = "
                  + now
                  + " WHERE id = 1 AND lease_token = ? AND lease_status = 'CLAIMED'"
                  + " AND lease_until <= "
                  + now)) {
        ps.setLong(1, claim.token());
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }
      CompletableFuture<Claim<Long>> renewed = new CompletableFuture<>();
      Thread renewer =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      renewed.complete(repository.renew(claim, LONG));
                    } catch (Throwable t) {
                      renewed.completeExceptionally(t);
                    }
                  });
      awaitBlockedOrDone(renewer, renewed);
      reaper.commit();
      assertThat(renewed)
          .failsWithin(Duration.ofSeconds(10))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .withCauseInstanceOf(LeaseLostException.class);
    }
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(1, 0, 0, 0));
  }

  record Credential(long id, String username) {}

  @Test
  void leasesRowsOfAnExistingTableWithTheirData() throws SQLException {
    Pools.execute(
        dataSource(),
        "DROP TABLE IF EXISTS credential",
        "CREATE TABLE credential (credential_id BIGINT PRIMARY KEY, username VARCHAR(100) NOT"
            + " NULL)",
        "INSERT INTO credential VALUES (1, 'alice'), (2, 'bob'), (3, 'carol')");
    LeaseTable table =
        LeaseTable.named("credential")
            .withIdColumn("credential_id")
            .withLeaseColumnPrefix("claim_");
    List<String> ddl = LeaseSchema.addLeaseColumns(dialect(), table);
    LeaseSchema.execute(dataSource(), ddl);
    LeaseSchema.execute(dataSource(), ddl); // idempotent
    JdbcClaimLeaseRepository<Credential> repository =
        JdbcClaimLeaseRepository.forRows(
                dataSource(),
                rs -> new Credential(rs.getLong("credential_id"), rs.getString("username")),
                Credential::id)
            .table(table)
            .build();

    List<Claim<Credential>> claims = repository.claim("checker", 10, LONG);

    assertThat(claims)
        .extracting(Claim::item)
        .containsExactlyInAnyOrder(
            new Credential(1, "alice"), new Credential(2, "bob"), new Credential(3, "carol"));
    BatchOutcome<Credential> renewed = repository.renewAll(claims, LONG);
    assertThat(renewed.applied()).hasSize(3);
    repository.complete(claims.get(0));
    repository.fail(claims.get(1), "wrong password");
    repository.release(claims.get(2), Duration.ZERO);
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(1, 0, 1, 1));
    assertThat(
            Pools.count(
                dataSource(),
                "SELECT COUNT(*) FROM credential WHERE claim_status = 'FAILED'"
                    + " AND claim_error = 'wrong password' AND claim_owner = 'checker'"))
        .isEqualTo(1);
    assertThatThrownBy(
            () ->
                repository.complete(
                    new Claim<>(
                        new Credential(99, "mallory"),
                        "checker",
                        1,
                        Instant.EPOCH,
                        Instant.EPOCH,
                        1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown claim")
        .hasMessageContaining("mallory");
  }

  @Test
  void idsOfOtherTypesAreMatchedInBatches() throws SQLException {
    record Case(String sqlType, Class<?> javaType, List<Object> ids) {}
    List<Case> cases =
        List.of(
            new Case("INTEGER", Integer.class, List.of(7, 8, 9)),
            new Case("VARCHAR(40)", String.class, List.of("a-1", "b-2", "c-3")),
            new Case(
                "UUID",
                UUID.class,
                List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID())));
    for (Case c : cases) {
      LeaseTable table = LeaseTable.named("typed_item");
      Pools.execute(
          dataSource(),
          "DROP TABLE IF EXISTS typed_item",
          "CREATE TABLE typed_item (id " + c.sqlType() + " PRIMARY KEY)");
      LeaseSchema.execute(dataSource(), LeaseSchema.addLeaseColumns(dialect(), table));
      insertIds(c.ids());
      checkBatches(
          JdbcClaimLeaseRepository.forIds(dataSource(), c.javaType()).table(table).build(),
          c.ids());
    }
  }

  private void insertIds(List<Object> ids) {
    try (Connection c = dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("INSERT INTO typed_item (id) VALUES (?)")) {
      for (Object id : ids) {
        ps.setObject(1, id);
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static <T> void checkBatches(JdbcClaimLeaseRepository<T> repository, List<Object> ids) {
    List<Claim<T>> claims = repository.claim("w", 10, LONG);
    assertThat(claims).extracting(c -> (Object) c.item()).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(repository.renewAll(claims, LONG).applied()).as("renewed %s", ids).hasSize(3);
    BatchOutcome<T> completed = repository.completeAll(claims);
    assertThat(completed.applied()).as("completed %s", ids).hasSize(3);
    // Sent again (its reply lost, say): the rows are found by id and show these claims did it.
    assertThat(repository.completeAll(claims).applied()).as("completed already").hasSize(3);
    List<Claim<T>> impostors =
        claims.stream()
            .map(
                c ->
                    new Claim<>(
                        c.item(), "other", c.token(), c.claimedAt(), c.leaseUntil(), c.attempt()))
            .toList();
    assertThat(repository.completeAll(impostors).leaseLost()).hasSize(3);
  }

  @Test
  void longFailureReasonsAreCutToTheColumn() {
    JdbcClaimLeaseRepository<Long> repository = dedicated("reason_item");
    Pools.execute(dataSource(), "INSERT INTO reason_item (id) VALUES (1)");

    repository.fail(repository.claim("w", 1, LONG).get(0), "é".repeat(5000));

    assertThat(Pools.count(dataSource(), "SELECT CHAR_LENGTH(lease_error) FROM reason_item"))
        .isEqualTo(LeaseSchema.ERROR_LENGTH);
  }

  @Test
  void worksOnConnectionsWithAutoCommitOff() throws SQLException {
    dedicated("manual_item");
    Pools.execute(dataSource(), "INSERT INTO manual_item (id) VALUES (1), (2)");
    HikariConfig config = poolConfig();
    config.setAutoCommit(false);
    try (HikariDataSource manual = new HikariDataSource(config)) {
      JdbcClaimLeaseRepository<Long> repository =
          JdbcClaimLeaseRepository.forIds(manual, Long.class)
              .table(LeaseTable.named("manual_item"))
              .build();
      List<Claim<Long>> claims = repository.claim("w", 2, LONG);
      repository.complete(claims.get(0));
      repository.complete(claims.get(0)); // a retry: already done, nothing changes
      assertThatThrownBy(() -> repository.fail(claims.get(0), "late"))
          .isInstanceOf(LeaseLostException.class);
      repository.release(claims.get(1), Duration.ZERO);
    }
    // Seen from another pool: everything was committed.
    assertThat(
            Pools.count(
                dataSource(), "SELECT COUNT(*) FROM manual_item WHERE lease_status = 'COMPLETED'"))
        .isEqualTo(1);
    assertThat(
            Pools.count(
                dataSource(), "SELECT COUNT(*) FROM manual_item WHERE lease_status = 'PENDING'"))
        .isEqualTo(1);
  }

  @Test
  void leasesATableInAnotherSchema() {
    Pools.execute(dataSource(), "CREATE SCHEMA IF NOT EXISTS work_queue");
    LeaseTable table = LeaseTable.named("work_queue.job");
    Pools.execute(dataSource(), "DROP TABLE IF EXISTS work_queue.job");
    Pools.execute(dataSource(), LeaseSchema.createTable(dialect(), table).toArray(String[]::new));
    Pools.execute(dataSource(), "INSERT INTO work_queue.job (payload) VALUES ('x'), ('y')");
    JdbcClaimLeaseRepository<Long> repository =
        JdbcClaimLeaseRepository.forIds(dataSource(), Long.class).table(table).build();

    List<Claim<Long>> claims = repository.claim("w", 5, LONG);

    assertThat(claims).hasSize(2);
    assertThat(repository.completeAll(claims).allApplied()).isTrue();
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 2, 0));
  }

  @Test
  void itemsBecomeAvailableInTheOrderTheyWereAdded() {
    JdbcClaimLeaseRepository<Long> repository = dedicated("order_item");
    Pools.execute(dataSource(), "INSERT INTO order_item (id) VALUES (3), (1), (2)");
    Claim<Long> first = repository.claim("w", 1, LONG).get(0);
    repository.release(first, Duration.ZERO); // released: now the newest

    List<Long> order = repository.claim("w", 1, LONG).stream().map(Claim::item).toList();
    order = new java.util.ArrayList<>(order);
    order.addAll(repository.claim("w", 1, LONG).stream().map(Claim::item).toList());
    order.addAll(repository.claim("w", 1, LONG).stream().map(Claim::item).toList());

    // Same insert time: by id; the released one goes last.
    assertThat(first.item()).isEqualTo(1L);
    assertThat(order).containsExactly(2L, 3L, 1L);
  }
}
