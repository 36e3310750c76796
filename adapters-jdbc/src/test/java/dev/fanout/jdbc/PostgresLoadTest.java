package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.lease.Claim;
import dev.fanout.lease.ClaimWorkers;
import dev.fanout.lease.ClaimWorkersConfig;
import dev.fanout.lease.ClaimWorkersStatus;
import dev.fanout.lease.LeaseCounts;
import dev.fanout.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.ThreadFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * 8 workers and 10,000 items on PostgreSQL: every item is processed exactly once — each
 * processing inserts a row under a primary key, so a second processing of an item would fail its
 * handler — completed, and none is left pending.
 */
@ExtendWith(PostgresExtension.class)
class PostgresLoadTest {
  private static final Logger log = LoggerFactory.getLogger(PostgresLoadTest.class);
  private static final int ITEMS = 10_000;

  record Item(long id, String payload) {}

  @ParameterizedTest(name = "batch {0}, completion batch {1}")
  @CsvSource({"1, 1", "50, 200"})
  @Timeout(180)
  void eightWorkersProcessTenThousandItemsExactlyOnce(
      int batchSize, int completionBatch, PostgresServer server) throws Exception {
    String url = server.createDatabase("load");
    try (HikariDataSource pool = Pools.pool(url, 16)) {
      LeaseTable table = LeaseTable.named("load_item");
      Pools.execute(pool, "DROP TABLE IF EXISTS load_item", "DROP TABLE IF EXISTS processed");
      Pools.execute(
          pool, LeaseSchema.createTable(SqlDialect.POSTGRESQL, table).toArray(String[]::new));
      Pools.execute(
          pool,
          "CREATE TABLE processed (item_id BIGINT PRIMARY KEY, token BIGINT NOT NULL, worker TEXT"
              + " NOT NULL)",
          "INSERT INTO load_item (id, payload) SELECT g, 'credential ' || g FROM generate_series(1,"
              + " "
              + ITEMS
              + ") g");
      JdbcClaimLeaseRepository<Item> repository =
          JdbcClaimLeaseRepository.forRows(
                  pool, rs -> new Item(rs.getLong("id"), rs.getString("payload")), Item::id)
              .table(table)
              .build();
      List<Thread> threads = new CopyOnWriteArrayList<>();
      AtomicInteger inside = new AtomicInteger();
      AtomicInteger mostInside = new AtomicInteger();
      ThreadFactory factory =
          task -> {
            Thread t = Thread.ofVirtual().unstarted(task);
            threads.add(t);
            return t;
          };
      ClaimWorkers<Item> workers =
          ClaimWorkers.builder(
                  repository,
                  (Claim<Item> claim) -> {
                    mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                    if (!claim.item().payload().equals("credential " + claim.item().id())) {
                      throw new IllegalStateException("wrong row for " + claim);
                    }
                    try (Connection c = pool.getConnection();
                        PreparedStatement ps =
                            c.prepareStatement(
                                "INSERT INTO processed (item_id, token, worker) VALUES (?, ?,"
                                    + " ?)")) {
                      ps.setLong(1, claim.item().id());
                      ps.setLong(2, claim.token());
                      ps.setString(3, claim.workerId());
                      ps.executeUpdate();
                    } finally {
                      inside.decrementAndGet();
                    }
                  })
              .name("load")
              .threadFactory(factory)
              .config(
                  ClaimWorkersConfig.builder()
                      .concurrency(8)
                      .batchSize(batchSize)
                      .pollInterval(Duration.ofMillis(10))
                      .maxPollInterval(Duration.ofMillis(100))
                      .completionBatching(completionBatch, Duration.ofMillis(10))
                      .build())
              .build();

      long start = System.nanoTime();
      workers.start();
      await()
          .atMost(Duration.ofSeconds(150))
          .pollInterval(Duration.ofMillis(50))
          .until(() -> workers.status().completed() == ITEMS);
      double seconds = (System.nanoTime() - start) / 1e9;
      assertThat(workers.stop()).isTrue();
      ClaimWorkersStatus status = workers.status();
      log.warn(
          "load: batch {}, completion batch {}: {} items in {} s ({} items/s), {} handlers at"
              + " most at once; {}",
          batchSize,
          completionBatch,
          ITEMS,
          String.format("%.2f", seconds),
          Math.round(ITEMS / seconds),
          mostInside.get(),
          status.summary());

      assertThat(status.claimed()).as("no item claimed twice").isEqualTo(ITEMS);
      assertThat(status.completed()).isEqualTo(ITEMS);
      assertThat(status.retried()).as("no handler failed: no duplicate processing").isZero();
      assertThat(status.failed()).isZero();
      assertThat(status.leaseLost()).isZero();
      assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, ITEMS, 0));
      assertThat(Pools.count(pool, "SELECT COUNT(*) FROM processed")).isEqualTo(ITEMS);
      assertThat(
              Pools.count(
                  pool,
                  "SELECT COUNT(*) FROM processed p JOIN load_item i ON i.id = p.item_id AND"
                      + " i.lease_token = p.token AND i.lease_owner = p.worker"))
          .as("each item completed by the claim that processed it")
          .isEqualTo(ITEMS);
      // One owner id per instance; its handlers ran side by side, never more than eight. (How
      // many meet inside the handler at one moment depends on timing: each run also spends a
      // round trip marking itself started and one completing, outside the handler.)
      assertThat(Pools.count(pool, "SELECT COUNT(DISTINCT worker) FROM processed")).isEqualTo(1);
      assertThat(
              Pools.count(
                  pool,
                  "SELECT COUNT(*) FROM processed WHERE worker = '" + workers.workerId() + "'"))
          .isEqualTo(ITEMS);
      assertThat(mostInside.get()).as("handlers running at once").isBetween(2, 8);
      assertThat(threads).isNotEmpty().noneMatch(Thread::isAlive);
    }
  }
}
