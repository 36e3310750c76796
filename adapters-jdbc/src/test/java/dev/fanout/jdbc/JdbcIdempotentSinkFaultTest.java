package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.testing.faults.FaultProxy;
import dev.fanout.testing.postgres.PostgresServer;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link JdbcIdempotentSink} on PostgreSQL through a {@link FaultProxy}: whatever the network does
 * to a write, and however often the writer retries it, each id is stored exactly once, and a
 * write of several statements is all or nothing.
 */
@ExtendWith(PostgresExtension.class)
class JdbcIdempotentSinkFaultTest {
  private static final AtomicInteger TABLES = new AtomicInteger();
  private static final Duration CALL_FAILS_WITHIN =
      Duration.ofSeconds(ProxiedPools.SOCKET_TIMEOUT_SECONDS + 8);

  record Event(String id, String payload) {}

  private static PostgresServer server;
  private static HikariDataSource direct;

  private FaultProxy proxy;
  private HikariDataSource viaProxy;
  private String table;
  private ExecutorService background;

  @BeforeAll
  static void database(PostgresServer shared) {
    server = shared;
    server.createDatabase("sink_faults");
    direct = Pools.pool(server.jdbcUrl("sink_faults"), 4);
  }

  @AfterAll
  static void closeDirect() {
    direct.close();
  }

  @BeforeEach
  void setUp() {
    table = "fault_event_" + TABLES.incrementAndGet();
    Pools.execute(
        direct, "CREATE TABLE " + table + " (id VARCHAR(64) PRIMARY KEY, payload VARCHAR(64))");
    proxy = FaultProxy.start(server.host(), server.port());
    viaProxy = ProxiedPools.pool(proxy, "sink_faults", true, 4);
    background = Executors.newVirtualThreadPerTaskExecutor();
  }

  @AfterEach
  void tearDown() {
    background.shutdownNow();
    viaProxy.close();
    proxy.close();
  }

  @Test
  void writeWhoseAcknowledgementIsLostIsStoredOnceAndItsRetryAddsNothing() throws Exception {
    JdbcIdempotentSink<Event, String> sink = sink(viaProxy, 500);
    FaultProxy.Trigger lost = proxy.loseRepliesAfter("ON CONFLICT");

    assertThatThrownBy(() -> sink.write(events(0, 100))).isInstanceOf(SQLException.class);
    assertThat(lost.fired()).isTrue();
    assertThat(storedIds()).as("committed though unacknowledged").isEqualTo(ids(0, 100));

    assertThat(sink.write(events(0, 100))).isZero();
    assertThat(sink.write(events(50, 150))).isEqualTo(50);
    assertThat(storedIds()).isEqualTo(ids(0, 150));
  }

  @Test
  void writeOfManyStatementsWhoseCommitAcknowledgementIsLostIsStoredOnce() throws Exception {
    JdbcIdempotentSink<Event, String> sink = sink(viaProxy, 10); // 10 statements, one transaction
    FaultProxy.Trigger lost = proxy.loseRepliesAfter("COMMIT");

    assertThatThrownBy(() -> sink.write(events(0, 100)))
        .isInstanceOf(SQLException.class)
        .as("the failure tells what went wrong, not only that the connection is closed since")
        .hasStackTraceContaining("An I/O error occurred");
    assertThat(lost.fired()).isTrue();
    assertThat(storedIds()).isEqualTo(ids(0, 100));

    assertThat(sink.write(events(0, 100))).isZero();
    assertThat(storedIds()).isEqualTo(ids(0, 100));
  }

  @Test
  void writeResetBeforeItReachesTheServerStoresNothingAndItsRetryStoresAll() throws Exception {
    JdbcIdempotentSink<Event, String> sink = sink(viaProxy, 500);
    FaultProxy.Trigger held = proxy.holdNext("ON CONFLICT");
    Future<Integer> write = background.submit(() -> sink.write(events(0, 100)));
    await().atMost(Duration.ofSeconds(5)).until(held::fired);
    proxy.resetAll();
    proxy.passThrough();

    assertWriteFails(write);
    assertThat(storedIds()).isEmpty();
    assertThat(sink.write(events(0, 100))).isEqualTo(100);
    assertThat(storedIds()).isEqualTo(ids(0, 100));
  }

  @Test
  void writeOfManyStatementsResetHalfwayStoresNothing() throws Exception {
    JdbcIdempotentSink<Event, String> sink = sink(viaProxy, 10);
    FaultProxy.Trigger held = proxy.holdNext(id(55)); // in the sixth of ten statements
    Future<Integer> write = background.submit(() -> sink.write(events(0, 100)));
    await().atMost(Duration.ofSeconds(5)).until(held::fired);
    proxy.resetAll();
    proxy.passThrough();

    assertWriteFails(write);
    assertThat(storedIds()).as("the first five statements were rolled back").isEmpty();
    assertThat(sink.write(events(0, 100))).isEqualTo(100);
    assertThat(storedIds()).isEqualTo(ids(0, 100));
  }

  @Test
  void writeStalledUntilItsRetryWasStoredArrivesLateAndChangesNothing() throws Exception {
    JdbcIdempotentSink<Event, String> sink = sink(viaProxy, 500);
    FaultProxy.Trigger held = proxy.holdNext("ON CONFLICT");
    Future<Integer> stalled = background.submit(() -> sink.write(events(0, 100)));
    await().atMost(Duration.ofSeconds(5)).until(held::fired);
    assertWriteFails(stalled);

    assertThat(sink(direct, 500).write(events(0, 100))).as("the retry").isEqualTo(100);
    proxy.passThrough(); // the first write reaches the server now
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.connections() == 0);
    assertThat(storedIds()).isEqualTo(ids(0, 100));
    assertThat(sink.write(events(0, 100))).isZero();
  }

  @Test
  void writeWhileTheServerIsDownFailsAndSucceedsOnceItIsBack() throws Exception {
    JdbcIdempotentSink<Event, String> sink = sink(viaProxy, 500);
    assertThat(sink.write(events(0, 10))).isEqualTo(10);

    proxy.stopListening();
    assertThatThrownBy(() -> sink.write(events(0, 100))).isInstanceOf(SQLException.class);
    assertThatThrownBy(() -> sink.write(events(0, 100))).isInstanceOf(SQLException.class);
    assertThat(storedIds()).isEqualTo(ids(0, 10));

    proxy.startListening();
    assertThat(sink.write(events(0, 100))).isEqualTo(90);
    assertThat(storedIds()).isEqualTo(ids(0, 100));
  }

  @Test
  void concurrentWritersRetryingThroughRepeatedResetsStoreEachIdOnce() throws Exception {
    JdbcIdempotentSink<Event, String> sink = sink(viaProxy, 25);
    int writers = 4;
    int batches = 40;
    AtomicLong newRows = new AtomicLong();
    AtomicInteger failures = new AtomicInteger();
    Set<String> written = ConcurrentHashMap.newKeySet();
    ScheduledExecutorService chaos = Executors.newSingleThreadScheduledExecutor();
    AtomicInteger resets = new AtomicInteger();
    chaos.scheduleAtFixedRate(
        () -> resets.addAndGet(proxy.resetAll()), 100, 100, TimeUnit.MILLISECONDS);
    try {
      List<Future<?>> running = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        Random random = new Random(w);
        running.add(
            background.submit(
                () -> {
                  for (int i = 0; i < batches; i++) {
                    int from = random.nextInt(300);
                    List<Event> batch = events(from, from + 50);
                    for (int attempt = 1; ; attempt++) {
                      try {
                        newRows.addAndGet(sink.write(batch));
                        break;
                      } catch (SQLException e) {
                        failures.incrementAndGet();
                        assertThat(attempt).as("attempts of one batch").isLessThan(200);
                      }
                    }
                    batch.forEach(e -> written.add(e.id()));
                  }
                  return null;
                }));
      }
      for (Future<?> f : running) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      chaos.shutdownNow();
      assertThat(chaos.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
    }
    proxy.passThrough();

    assertThat(resets.get()).as("connections reset").isPositive();
    assertThat(failures.get()).as("writes that failed and were retried").isPositive();
    assertThat(storedIds()).isEqualTo(written);
    assertThat(Pools.count(direct, "SELECT COUNT(*) FROM " + table)).isEqualTo(written.size());
    // A write whose acknowledgement a reset took was counted by nobody: never more, maybe fewer.
    assertThat(newRows.get()).isLessThanOrEqualTo(written.size());
  }

  // ---------------------------------------------------------------------------------------------

  private JdbcIdempotentSink<Event, String> sink(
      DataSource dataSource, int rowsPerStatement) throws SQLException {
    return JdbcIdempotentSink.builder(dataSource, table, "id", Event::id, String.class)
        .column("payload", Event::payload)
        .dialect(SqlDialect.POSTGRESQL)
        .rowsPerStatement(rowsPerStatement)
        .build();
  }

  private static String id(int n) {
    return String.format("evt-%04d", n);
  }

  private static List<Event> events(int from, int to) {
    return IntStream.range(from, to).mapToObj(n -> new Event(id(n), "p" + n)).toList();
  }

  private static Set<String> ids(int from, int to) {
    return IntStream.range(from, to).mapToObj(JdbcIdempotentSinkFaultTest::id).collect(Collectors.toSet());
  }

  private Set<String> storedIds() throws SQLException {
    return new HashSet<>(sink(direct, 500).existingIds());
  }

  private static void assertWriteFails(Future<Integer> write) {
    assertThatThrownBy(() -> write.get(CALL_FAILS_WITHIN.toMillis(), TimeUnit.MILLISECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(SQLException.class);
  }
}
