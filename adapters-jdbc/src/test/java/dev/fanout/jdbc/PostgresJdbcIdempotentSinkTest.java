package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.testing.postgres.PostgresServer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The idempotent sink on the real PostgreSQL server the test run starts on loopback. */
@ExtendWith(PostgresExtension.class)
class PostgresJdbcIdempotentSinkTest extends AbstractJdbcIdempotentSinkTest {
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static PostgresServer server;
  private HikariDataSource pool;

  @BeforeAll
  static void server(PostgresServer shared) {
    server = shared;
  }

  @Override
  protected DataSource dataSource() {
    if (pool == null) {
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(server.createDatabase("sink_" + DATABASES.incrementAndGet()));
      config.setMaximumPoolSize(10);
      pool = new HikariDataSource(config);
    }
    return pool;
  }

  @AfterEach
  void closePool() {
    pool.close();
  }

  /**
   * Regression: two writers inserting overlapping ids in different orders deadlocked ({@code
   * 40P01}), each waiting for a row the other had inserted first. Rows are now written in id
   * order, so they wait for each other in the same order: no deadlock, and no retry needed (one
   * statement per write).
   */
  @Test
  void writersOfOverlappingIdsInOppositeOrdersNeverDeadlock() throws Exception {
    int rounds = 60;
    int idsPerRound = 200;
    CountingDataSource counting = new CountingDataSource(ds);
    JdbcIdempotentSink<Event, String> sink = sink(counting.dataSource, 500);
    AtomicLong inserted = new AtomicLong();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    CyclicBarrier start = new CyclicBarrier(2);
    List<Thread> writers = new ArrayList<>();
    for (boolean descending : new boolean[] {false, true}) {
      writers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int round = 0; round < rounds; round++) {
                      List<Event> batch =
                          new ArrayList<>(events(round * idsPerRound, (round + 1) * idsPerRound));
                      if (descending) {
                        Collections.reverse(batch);
                      }
                      try {
                        start.await(30, TimeUnit.SECONDS);
                        inserted.addAndGet(sink.write(batch));
                      } catch (Exception e) {
                        failures.add(e);
                      }
                    }
                  }));
    }
    for (Thread writer : writers) {
      writer.join();
    }

    assertThat(failures).isEmpty();
    assertThat(counting.executed).as("one statement per write: none was retried").hasValue(2 * rounds);
    assertThat(inserted).hasValue((long) rounds * idsPerRound);
    assertThat(rows()).isEqualTo((long) rounds * idsPerRound);
    assertThat(
            Pools.count(
                ds, "SELECT COUNT(*) FROM (SELECT id FROM event GROUP BY id HAVING COUNT(*) > 1) d"))
        .isZero();
  }

  @Test
  void detectsPostgresql() throws Exception {
    assertThat(sink(10).dialect()).isEqualTo(SqlDialect.POSTGRESQL);
  }
}
