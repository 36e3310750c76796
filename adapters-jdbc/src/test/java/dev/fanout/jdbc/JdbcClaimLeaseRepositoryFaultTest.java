package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.LIST;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.lease.Claim;
import dev.fanout.lease.LeaseLostException;
import dev.fanout.lease.LeaseStoreException;
import dev.fanout.testing.faults.FaultProxy;
import dev.fanout.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every statement of {@link JdbcClaimLeaseRepository} under network faults between worker A and
 * PostgreSQL: A reaches the database through a {@link FaultProxy}; worker B, the reaper and the
 * checks reach it directly. After each fault the store must keep its guarantees: an item is
 * completed or failed at most once and is never lost (it ends completed or failed, or is available
 * again, at the latest once its lease has ended), and a worker whose lease was taken over is
 * refused and changes nothing, even when its statement reaches the server late.
 *
 * <p>One item per test, in a table of its own. The driver's socket timeout is {@value
 * ProxiedPools#SOCKET_TIMEOUT_SECONDS} s.
 */
@ExtendWith(PostgresExtension.class)
class JdbcClaimLeaseRepositoryFaultTest {
  private static final Duration SHORT_LEASE = Duration.ofSeconds(1);
  private static final Duration LONG_LEASE = Duration.ofSeconds(60);
  private static final Duration CALL_FAILS_WITHIN =
      Duration.ofSeconds(ProxiedPools.SOCKET_TIMEOUT_SECONDS + 8);
  private static final AtomicInteger TABLES = new AtomicInteger();

  private static PostgresServer server;
  private static HikariDataSource direct;

  private FaultProxy proxy;
  private HikariDataSource viaProxy;
  private LeaseTable table;
  private JdbcClaimLeaseRepository<Long> a;
  private JdbcClaimLeaseRepository<Long> b;
  private ExecutorService background;

  /** A call of the repository, and the marker by which the proxy knows its statement. */
  enum Call {
    CLAIM("WITH picked AS"),
    RENEW("COALESCE("),
    COMPLETE("'COMPLETED'"),
    RELEASE("lease_available_at = now() + "),
    FAIL("'FAILED'"),
    REAP("WITH expired AS");

    final String marker;

    Call(String marker) {
      this.marker = marker;
    }
  }

  /** The item's row as the database holds it. */
  record Row(
      String status,
      long token,
      @Nullable String owner,
      @Nullable Instant until,
      int attempts,
      @Nullable String error) {}

  @BeforeAll
  static void database(PostgresServer shared) {
    server = shared;
    server.createDatabase("lease_faults");
    direct = Pools.pool(server.jdbcUrl("lease_faults"), 4);
  }

  @AfterAll
  static void closeDirect() {
    direct.close();
  }

  @BeforeEach
  void setUp() throws SQLException {
    table = LeaseTable.named("fault_item_" + TABLES.incrementAndGet());
    LeaseSchema.execute(direct, LeaseSchema.createTable(SqlDialect.POSTGRESQL, table));
    Pools.execute(direct, "INSERT INTO " + table.table() + " (id) VALUES (1)");
    proxy = FaultProxy.start(server.host(), server.port());
    background = Executors.newVirtualThreadPerTaskExecutor();
    usePool(true);
    b = JdbcClaimLeaseRepository.forIds(direct, Long.class).table(table).build();
  }

  @AfterEach
  void tearDown() {
    background.shutdownNow();
    viaProxy.close();
    proxy.close();
  }

  private void usePool(boolean autoCommit) {
    if (viaProxy != null) {
      viaProxy.close();
    }
    viaProxy = ProxiedPools.pool(proxy, "lease_faults", autoCommit, 2);
    a =
        JdbcClaimLeaseRepository.forIds(viaProxy, Long.class)
            .table(table)
            .dialect(SqlDialect.POSTGRESQL)
            .build();
  }

  // ---------------------------------------------------------------------------------------------
  // In-flight reset

  @ParameterizedTest
  @EnumSource(Call.class)
  void resetWhileTheStatementIsOnItsWayChangesNothingAndTheRetrySucceeds(Call call)
      throws Exception {
    Claim<Long> claim = prepare(call);
    Row before = row();
    FaultProxy.Trigger held = proxy.holdNext(call.marker);

    Future<Object> inFlight = async(() -> run(call, a, claim));
    await().atMost(Duration.ofSeconds(5)).until(held::fired);
    proxy.resetAll();
    proxy.passThrough();

    assertStoreFailure(inFlight);
    assertThat(row()).as("the statement never reached the server").isEqualTo(before);
    assertRetrySucceeds(call, claim, before);
  }

  @ParameterizedTest
  @EnumSource(Call.class)
  void resetAfterTheServerCommittedLeavesTheChangeMadeOnce(Call call) throws Exception {
    Claim<Long> claim = prepare(call);
    Row before = row();
    FaultProxy.Trigger lost = proxy.loseRepliesAfter(call.marker);

    Future<Object> inFlight = async(() -> run(call, a, claim));
    await().atMost(Duration.ofSeconds(5)).until(() -> lost.fired() && applied(call, before, row()));
    proxy.resetAll();

    assertStoreFailure(inFlight);
    assertRetryAfterApplied(call, claim, before);
  }

  // ---------------------------------------------------------------------------------------------
  // Lost acknowledgement

  @ParameterizedTest
  @EnumSource(Call.class)
  void lostAcknowledgementOfTheCommitFailsTheCallButTheChangeStandsOnce(Call call)
      throws Exception {
    usePool(false); // the repository commits itself: COMMIT is a statement of its own
    Claim<Long> claim = prepare(call);
    Row before = row();
    FaultProxy.Trigger lost = proxy.loseRepliesAfter("COMMIT");

    long start = System.nanoTime();
    assertThatThrownBy(() -> run(call, a, claim)).isInstanceOf(LeaseStoreException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("given up by the driver's socket timeout")
        .isGreaterThanOrEqualTo(Duration.ofSeconds(ProxiedPools.SOCKET_TIMEOUT_SECONDS));
    assertThat(lost.fired()).isTrue();
    assertThat(applied(call, before, row())).as("committed: %s", row()).isTrue();
    assertRetryAfterApplied(call, claim, before);
  }

  // ---------------------------------------------------------------------------------------------
  // Stall longer than the lease

  @ParameterizedTest
  @EnumSource(
      value = Call.class,
      names = {"RENEW", "COMPLETE", "RELEASE", "FAIL"})
  void workerStalledPastItsLeaseIsFencedEvenWhenItsStatementArrivesLate(Call call)
      throws Exception {
    Claim<Long> stale = a.claim("A", 1, SHORT_LEASE).get(0);
    FaultProxy.Trigger held = proxy.holdNext(call.marker);
    Future<Object> stalled = async(() -> run(call, a, stale));
    await().atMost(Duration.ofSeconds(5)).until(held::fired);

    awaitLeaseEnded(stale.leaseUntil());
    assertThat(b.reclaimExpired()).isEqualTo(1);
    Claim<Long> fresh = b.claim("B", 1, LONG_LEASE).get(0);
    assertThat(fresh.token()).isGreaterThan(stale.token());
    Row owned = row();

    assertStoreFailure(stalled);
    proxy.passThrough(); // A's statement reaches the server now, after B's claim
    awaitProxiedConnectionsGone();
    assertThat(row()).as("the late statement changed nothing").isEqualTo(owned);

    assertThatThrownBy(() -> run(call, a, stale))
        .isInstanceOf(LeaseLostException.class)
        .hasMessageContaining("now claimed by B");
    assertThatThrownBy(() -> a.renew(stale, LONG_LEASE)).isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> a.complete(stale)).isInstanceOf(LeaseLostException.class);
    assertThat(row()).isEqualTo(owned);
    assertThat(owned.owner()).isEqualTo("B");
    assertThat(owned.token()).isEqualTo(fresh.token());

    b.complete(fresh);
    assertThat(row().status()).isEqualTo("COMPLETED");
    assertThat(row().token()).isEqualTo(fresh.token());
  }

  @Test
  void claimStalledPastItsLeaseMayBeGrantedLateAndTheItemComesBackAfterTheLease()
      throws Exception {
    FaultProxy.Trigger held = proxy.holdNext(Call.CLAIM.marker);
    Future<Object> stalled = async(() -> a.claim("A", 10, SHORT_LEASE));
    await().atMost(Duration.ofSeconds(5)).until(held::fired);
    assertStoreFailure(stalled);

    proxy.passThrough(); // the claim A gave up on reaches the server
    awaitProxiedConnectionsGone();
    Row late = row();
    assertThat(late.status()).isEqualTo("CLAIMED");
    assertThat(late.owner()).isEqualTo("A");
    assertThat(b.claim("B", 10, LONG_LEASE)).as("held under the late claim's lease").isEmpty();

    awaitLeaseEnded(late.until());
    assertThat(b.reclaimExpired()).isEqualTo(1);
    List<Claim<Long>> again = b.claim("B", 10, LONG_LEASE);
    assertThat(again).singleElement().satisfies(c -> {
      assertThat(c.token()).isEqualTo(late.token() + 1);
      // The late claim's run never started (nobody saw the claim), so it was no attempt.
      assertThat(c.attempt()).isEqualTo(1);
    });
    b.complete(again.get(0));
    assertThat(row().status()).isEqualTo("COMPLETED");
  }

  @Test
  void reaperStalledPastALeaseDoesNotTakeBackTheLeaseGrantedMeanwhile() throws Exception {
    Claim<Long> first = b.claim("B", 1, Duration.ofMillis(200)).get(0);
    awaitLeaseEnded(first.leaseUntil());
    FaultProxy.Trigger held = proxy.holdNext(Call.REAP.marker);
    Future<Object> stalled = async(() -> a.reclaimExpired());
    await().atMost(Duration.ofSeconds(5)).until(held::fired);

    assertThat(b.reclaimExpired()).isEqualTo(1);
    Claim<Long> fresh = b.claim("C", 1, LONG_LEASE).get(0);
    Row owned = row();

    assertStoreFailure(stalled);
    proxy.passThrough();
    awaitProxiedConnectionsGone();
    assertThat(row()).as("the late reap left the live lease alone").isEqualTo(owned);
    assertThat(a.reclaimExpired()).isZero();
    b.complete(fresh);
    assertThat(row().status()).isEqualTo("COMPLETED");
  }

  // ---------------------------------------------------------------------------------------------
  // Server restart, as the client sees it

  @ParameterizedTest
  @EnumSource(Call.class)
  void callWhileTheServerIsDownFailsChangesNothingAndSucceedsOnceItIsBack(Call call)
      throws Exception {
    Claim<Long> claim = prepare(call);
    Row before = row();

    proxy.stopListening();
    assertThatThrownBy(() -> run(call, a, claim)).isInstanceOf(LeaseStoreException.class);
    assertThatThrownBy(() -> run(call, a, claim)).isInstanceOf(LeaseStoreException.class);
    assertThat(row()).isEqualTo(before);

    proxy.startListening();
    assertRetrySucceeds(call, claim, before);
  }

  // ---------------------------------------------------------------------------------------------
  // What each call needs, does and leaves

  /** Puts the item where {@code call} applies; returns the claim it is made on, if any. */
  private @Nullable Claim<Long> prepare(Call call) {
    return switch (call) {
      case CLAIM -> null;
      case REAP -> {
        Claim<Long> expiring = b.claim("B", 1, Duration.ofMillis(200)).get(0);
        awaitLeaseEnded(expiring.leaseUntil());
        yield expiring;
      }
      default -> a.claim("A", 1, LONG_LEASE).get(0);
    };
  }

  private static Object run(Call call, JdbcClaimLeaseRepository<Long> repo, @Nullable Claim<Long> c) {
    return switch (call) {
      case CLAIM -> repo.claim("A", 10, SHORT_LEASE);
      case RENEW -> repo.renew(nonNull(c), LONG_LEASE);
      case COMPLETE -> {
        repo.complete(nonNull(c));
        yield "completed";
      }
      case RELEASE -> {
        repo.release(nonNull(c), Duration.ZERO);
        yield "released";
      }
      case FAIL -> {
        repo.fail(nonNull(c), "boom");
        yield "failed";
      }
      case REAP -> repo.reclaimExpired();
    };
  }

  /** Whether {@code after} shows {@code call}'s change made to {@code before}. */
  private static boolean applied(Call call, Row before, Row after) {
    return switch (call) {
      case CLAIM ->
          after.status().equals("CLAIMED")
              && "A".equals(after.owner())
              && after.token() == before.token() + 1;
      case RENEW ->
          after.status().equals("CLAIMED")
              && after.token() == before.token()
              && after.until() != null
              && before.until() != null
              && after.until().isAfter(before.until());
      case COMPLETE -> after.status().equals("COMPLETED") && after.token() == before.token();
      case RELEASE, REAP -> after.status().equals("PENDING") && after.token() == before.token();
      case FAIL ->
          after.status().equals("FAILED")
              && after.token() == before.token()
              && "boom".equals(after.error());
    };
  }

  /** The change was not made; the same call, made again, makes it and settles the item. */
  private void assertRetrySucceeds(Call call, @Nullable Claim<Long> claim, Row before) {
    Object result = run(call, a, claim);
    Row after = row();
    assertThat(applied(call, before, after)).as("retried: %s", after).isTrue();
    switch (call) {
      case CLAIM -> {
        assertThat(result).asInstanceOf(LIST).hasSize(1);
        awaitLeaseEnded(after.until());
        assertThat(b.reclaimExpired()).isEqualTo(1);
        assertItemAvailableAgain(after.token());
      }
      case RENEW -> {
        a.complete(nonNull(claim));
        assertThat(row().status()).isEqualTo("COMPLETED");
      }
      case COMPLETE, FAIL -> assertSettledOnce(after);
      case RELEASE -> assertItemAvailableAgain(after.token());
      case REAP -> {
        assertThat(result).isEqualTo(1);
        assertItemAvailableAgain(after.token());
      }
    }
  }

  /**
   * The change was made, but the caller was not told: what it sees when it tries again — the
   * same settling call succeeds and changes nothing, another is refused — and that the item still
   * ends completed or failed once, or is available again.
   */
  private void assertRetryAfterApplied(Call call, @Nullable Claim<Long> claim, Row before) {
    Row after = row();
    assertThat(applied(call, before, after)).as("applied once: %s", after).isTrue();
    switch (call) {
      case CLAIM -> {
        // The claim stands, but its caller never got it: the item waits out the lease.
        assertThat(a.claim("A", 10, SHORT_LEASE)).isEmpty();
        awaitLeaseEnded(after.until());
        assertThat(b.reclaimExpired()).isEqualTo(1);
        assertItemAvailableAgain(after.token());
      }
      case RENEW -> {
        // Renewing again is harmless: the lease is still live and the claim current.
        Claim<Long> renewed = a.renew(nonNull(claim), LONG_LEASE);
        assertThat(renewed.leaseUntil()).isAfterOrEqualTo(nonNull(after.until()));
        a.complete(renewed);
        assertThat(row().status()).isEqualTo("COMPLETED");
      }
      case COMPLETE -> {
        // The retry learns that its claim completed the item; it changes nothing.
        a.complete(nonNull(claim));
        assertThat(row()).isEqualTo(after);
        assertThatThrownBy(() -> a.fail(nonNull(claim), "boom"))
            .isInstanceOf(LeaseLostException.class)
            .hasMessageContaining("it is completed");
        assertSettledOnce(after);
      }
      case FAIL -> {
        a.fail(nonNull(claim), "boom again");
        assertThat(row()).isEqualTo(after);
        assertThatThrownBy(() -> a.complete(nonNull(claim)))
            .isInstanceOf(LeaseLostException.class)
            .hasMessageContaining("it has failed");
        assertSettledOnce(after);
      }
      case RELEASE -> {
        a.release(nonNull(claim), Duration.ZERO);
        assertThat(row()).isEqualTo(after);
        assertThatThrownBy(() -> a.complete(nonNull(claim)))
            .isInstanceOf(LeaseLostException.class)
            .hasMessageContaining("pending again (released by this claim)");
        assertItemAvailableAgain(after.token());
      }
      case REAP -> {
        assertThat(a.reclaimExpired()).isZero();
        assertItemAvailableAgain(after.token());
      }
    }
  }

  /** Completed or failed, for good: nobody can claim it, and the row stays as it is. */
  private void assertSettledOnce(Row settled) {
    assertThat(b.claim("B", 10, LONG_LEASE)).isEmpty();
    assertThat(b.reclaimExpired()).isZero();
    assertThat(row()).isEqualTo(settled);
  }

  /** Pending and claimable, by B, under a token above every earlier one; then completed. */
  private void assertItemAvailableAgain(long lastToken) {
    List<Claim<Long>> again = b.claim("B", 10, LONG_LEASE);
    assertThat(again).singleElement().satisfies(c -> assertThat(c.token()).isEqualTo(lastToken + 1));
    b.complete(again.get(0));
    assertThat(row().status()).isEqualTo("COMPLETED");
  }

  // ---------------------------------------------------------------------------------------------

  private <R> Future<R> async(Callable<R> call) {
    return background.submit(call);
  }

  private static void assertStoreFailure(Future<?> call) {
    assertThatThrownBy(() -> call.get(CALL_FAILS_WITHIN.toMillis(), TimeUnit.MILLISECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(LeaseStoreException.class);
  }

  private void awaitLeaseEnded(@Nullable Instant until) {
    Instant end = nonNull(until);
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> b.databaseTime().isAfter(end));
  }

  /** Every connection through the proxy is closed: the server has read all that was sent. */
  private void awaitProxiedConnectionsGone() {
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.connections() == 0);
  }

  private Row row() {
    String sql =
        "SELECT lease_status, lease_token, lease_owner, lease_until, lease_attempts, lease_error"
            + " FROM " + table.table() + " WHERE id = 1";
    try (Connection c = direct.getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      assertThat(rs.next()).isTrue();
      OffsetDateTime until = rs.getObject(4, OffsetDateTime.class);
      return new Row(
          rs.getString(1),
          rs.getLong(2),
          rs.getString(3),
          until == null ? null : until.toInstant(),
          rs.getInt(5),
          rs.getString(6));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static <V> V nonNull(@Nullable V value) {
    assertThat(value).isNotNull();
    return value;
  }
}
