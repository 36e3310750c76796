package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.lease.Claim;
import dev.fanout.lease.ClaimWorkers;
import dev.fanout.lease.ClaimWorkersConfig;
import dev.fanout.lease.ClaimWorkersStatus;
import dev.fanout.lease.LeaseCounts;
import dev.fanout.testing.faults.FaultProxy;
import dev.fanout.testing.postgres.PostgresServer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ClaimWorkers} on PostgreSQL through a {@link FaultProxy} that resets every connection
 * again and again, so that claims, renewals, completions and reaps fail mid-flight, some after
 * they were committed: every item still ends completed exactly once in the store, none is left
 * behind, and every item's handler ran; and the workers' own counts agree with the store.
 */
@ExtendWith(PostgresExtension.class)
class ClaimWorkersFaultTest {
  private static final int ITEMS = 300;

  @Test
  void everyItemEndsCompletedOnceThoughConnectionsAreResetAgainAndAgain(PostgresServer server)
      throws Exception {
    server.createDatabase("workers_faults");
    LeaseTable table = LeaseTable.named("reset_item");
    ConcurrentHashMap<Long, AtomicInteger> handled = new ConcurrentHashMap<>();
    AtomicInteger resets = new AtomicInteger();
    try (HikariDataSource direct = Pools.pool(server.jdbcUrl("workers_faults"), 2);
        FaultProxy proxy = FaultProxy.start(server.host(), server.port());
        HikariDataSource viaProxy = ProxiedPools.pool(proxy, "workers_faults", true, 6)) {
      Pools.execute(direct, "DROP TABLE IF EXISTS reset_item");
      LeaseSchema.execute(direct, LeaseSchema.createTable(SqlDialect.POSTGRESQL, table));
      Pools.execute(
          direct, "INSERT INTO reset_item (id) SELECT g FROM generate_series(1, " + ITEMS + ") g");
      JdbcClaimLeaseRepository<Long> repository =
          JdbcClaimLeaseRepository.forIds(viaProxy, Long.class).table(table).build();
      ClaimWorkers<Long> workers =
          ClaimWorkers.builder(
                  repository,
                  (Claim<Long> claim) ->
                      handled.computeIfAbsent(claim.item(), k -> new AtomicInteger()).incrementAndGet())
              .name("resets")
              .config(
                  ClaimWorkersConfig.builder()
                      .concurrency(4)
                      .batchSize(5)
                      .pollInterval(Duration.ofMillis(20))
                      .maxPollInterval(Duration.ofMillis(200))
                      .leaseDuration(Duration.ofSeconds(3))
                      .heartbeatInterval(Duration.ofSeconds(1))
                      .reaperInterval(Duration.ofMillis(500))
                      .maxAttempts(1000) // lost claims count as attempts; none may fail for it
                      .retryDelay(Duration.ZERO, Duration.ZERO)
                      .build())
              .build();
      ScheduledExecutorService chaos = Executors.newSingleThreadScheduledExecutor();
      chaos.scheduleAtFixedRate(
          () -> resets.addAndGet(proxy.resetAll()), 50, 150, TimeUnit.MILLISECONDS);
      workers.start();
      try {
        await()
            .atMost(Duration.ofSeconds(40))
            .pollInterval(Duration.ofMillis(100))
            .until(() -> handled.size() >= ITEMS / 2);
        chaos.shutdownNow();
        assertThat(chaos.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        proxy.passThrough();
        // Items whose claim was committed but never seen come back once their lease ends.
        await()
            .atMost(Duration.ofSeconds(40))
            .pollInterval(Duration.ofMillis(100))
            .until(() -> counts(direct, table).completed() == ITEMS);
      } finally {
        chaos.shutdownNow();
        assertThat(workers.stop()).isTrue();
      }

      assertThat(resets.get()).as("connections reset").isPositive();
      assertThat(counts(direct, table)).isEqualTo(new LeaseCounts(0, 0, ITEMS, 0));
      assertThat(handled).hasSize(ITEMS);
      assertThat(handled.values()).allSatisfy(n -> assertThat(n.get()).isPositive());
      // Each item was completed by one claim, whose worker counted it completed — or abandoned,
      // if it never heard back for a whole lease; no claim that completed its item counts as lost.
      ClaimWorkersStatus end = workers.status();
      assertThat(end.accountedFor()).as(end.summary()).isTrue();
      assertThat(end.held()).as(end.summary()).isZero();
      assertThat(end.completed()).as(end.summary()).isLessThanOrEqualTo(ITEMS);
      assertThat(end.completed() + end.abandoned()).as(end.summary()).isGreaterThanOrEqualTo(ITEMS);
    }
  }

  /**
   * The replies of completions are lost on their way back (the server committed, the driver's
   * socket timeout fires): the workers retry, the store recognises each retry as done, and every
   * item counts as completed — none as a lost lease.
   */
  @ParameterizedTest(name = "completionBatchSize={0}")
  @ValueSource(ints = {1, 4})
  void completionsWhoseRepliesAreLostCountAsCompleted(int completionBatchSize, PostgresServer server)
      throws Exception {
    String database = "workers_lost_replies_" + completionBatchSize;
    server.createDatabase(database);
    LeaseTable table = LeaseTable.named("lost_reply_item");
    int items = 12;
    int lostReplies = 3;
    Semaphore finish = new Semaphore(0);
    try (HikariDataSource direct = Pools.pool(server.jdbcUrl(database), 2);
        FaultProxy proxy = FaultProxy.start(server.host(), server.port());
        HikariDataSource viaProxy = ProxiedPools.pool(proxy, database, true, 6)) {
      LeaseSchema.execute(direct, LeaseSchema.createTable(SqlDialect.POSTGRESQL, table));
      Pools.execute(
          direct,
          "INSERT INTO lost_reply_item (id) SELECT g FROM generate_series(1, " + items + ") g");
      JdbcClaimLeaseRepository<Long> repository =
          JdbcClaimLeaseRepository.forIds(viaProxy, Long.class)
              .table(table)
              .dialect(SqlDialect.POSTGRESQL)
              .build();
      ClaimWorkers<Long> workers =
          ClaimWorkers.builder(repository, (Claim<Long> claim) -> finish.acquire())
              .name("lost-replies")
              .config(
                  ClaimWorkersConfig.builder()
                      .concurrency(2)
                      .batchSize(2)
                      .pollInterval(Duration.ofMillis(20))
                      .maxPollInterval(Duration.ofMillis(200))
                      .leaseDuration(Duration.ofSeconds(30)) // no lease ends during the test
                      .completionBatching(completionBatchSize, Duration.ofMillis(20))
                      .build())
              .build();
      workers.start();
      try {
        for (int i = 0; i < lostReplies; i++) {
          FaultProxy.Trigger lost = proxy.loseRepliesAfter("'COMPLETED'");
          finish.release(); // one handler returns; its completion's reply is lost
          await().atMost(Duration.ofSeconds(20)).until(lost::fired);
        }
        finish.release(items);
        assertThat(workers.awaitDrained(Duration.ofSeconds(60))).isTrue();
      } finally {
        finish.release(items);
        assertThat(workers.stop()).isTrue();
      }

      ClaimWorkersStatus end = workers.status();
      assertThat(counts(direct, table)).isEqualTo(new LeaseCounts(0, 0, items, 0));
      assertThat(end.storeErrors()).as(end.summary()).isGreaterThanOrEqualTo(lostReplies);
      assertThat(end.claimed()).as(end.summary()).isEqualTo(items);
      assertThat(end.completed()).as(end.summary()).isEqualTo(items);
      assertThat(end.leaseLost()).as(end.summary()).isZero();
      assertThat(end.abandoned()).as(end.summary()).isZero();
      assertThat(end.accountedFor()).as(end.summary()).isTrue();
    }
  }

  private static LeaseCounts counts(HikariDataSource direct, LeaseTable table) {
    return JdbcClaimLeaseRepository.forIds(direct, Long.class).table(table).build().counts();
  }
}
