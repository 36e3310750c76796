package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.fanout.chunk.ChunkProcessor;
import dev.fanout.chunk.ChunkReport;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryPolicy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every database's idempotent sink must do; one subclass per database. */
abstract class AbstractJdbcIdempotentSinkTest {

  record Event(String id, String provider, Instant at) {}

  protected abstract DataSource dataSource();

  protected DataSource ds;

  @BeforeEach
  void createTable() throws SQLException {
    ds = dataSource();
    try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS event");
      s.execute(
          "CREATE TABLE event (id VARCHAR(64) PRIMARY KEY, provider VARCHAR(64) NOT NULL,"
              + " occurred_at TIMESTAMP WITH TIME ZONE NOT NULL)");
    }
  }

  protected JdbcIdempotentSink<Event, String> sink(int rowsPerStatement) throws SQLException {
    return sink(ds, rowsPerStatement);
  }

  protected static JdbcIdempotentSink<Event, String> sink(DataSource ds, int rowsPerStatement)
      throws SQLException {
    return JdbcIdempotentSink.builder(ds, "event", "id", Event::id, String.class)
        .column("provider", Event::provider)
        .column("occurred_at", e -> Timestamp.from(e.at()))
        .rowsPerStatement(rowsPerStatement)
        .build();
  }

  protected static Event event(int n) {
    return new Event("evt-" + n, "p" + (n % 3), Instant.parse("2026-01-01T00:00:00Z").plusSeconds(n));
  }

  protected static List<Event> events(int from, int to) {
    return IntStream.range(from, to).mapToObj(AbstractJdbcIdempotentSinkTest::event).toList();
  }

  protected long rows() throws SQLException {
    try (Connection c = ds.getConnection();
        var rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM event")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void countsExactlyTheNewRowsAndRewritingChangesNothing() throws Exception {
    JdbcIdempotentSink<Event, String> sink = sink(500);
    assertThat(sink.write(events(0, 10))).isEqualTo(10);
    assertThat(sink.write(events(5, 15))).isEqualTo(5);
    assertThat(sink.write(events(0, 15))).isZero();
    assertThat(rows()).isEqualTo(15);
  }

  @Test
  void duplicatesWithinABatchAreWrittenOnce() throws Exception {
    JdbcIdempotentSink<Event, String> sink = sink(500);
    List<Event> batch = new ArrayList<>(events(0, 5));
    batch.addAll(events(0, 5));
    assertThat(sink.write(batch)).isEqualTo(5);
    assertThat(rows()).isEqualTo(5);
  }

  @Test
  void largeBatchesSpanSeveralStatementsInOneTransaction() throws Exception {
    JdbcIdempotentSink<Event, String> sink = sink(7);
    assertThat(sink.write(events(0, 100))).isEqualTo(100);
    assertThat(sink.write(events(50, 150))).isEqualTo(50);
    assertThat(rows()).isEqualTo(150);
  }

  @Test
  void aFailingBatchLeavesNothingBehind() throws Exception {
    JdbcIdempotentSink<Event, String> sink = sink(5);
    List<Event> batch = new ArrayList<>(events(0, 12));
    batch.add(new Event("evt-bad", null, Instant.now())); // NOT NULL violated in the last statement
    assertThatThrownBy(() -> sink.write(batch)).isInstanceOf(SQLException.class);
    assertThat(rows()).isZero();
    assertThat(sink.write(events(0, 12))).isEqualTo(12);
  }

  @Test
  void aValueTooLongForItsColumnIsWrittenOnceAndIsNotTransient() throws Exception {
    CountingDataSource counting = new CountingDataSource(ds);
    JdbcIdempotentSink<Event, String> sink = sink(counting.dataSource, 500);
    Event tooLong = new Event("x".repeat(100), "p", Instant.now()); // the id column holds 64

    Throwable failure = catchThrowable(() -> sink.write(List.of(tooLong)));

    assertThat(failure).isInstanceOf(SQLException.class);
    assertThat(((SQLException) failure).getSQLState()).isEqualTo("22001");
    assertThat(counting.executed).hasValue(1);
    assertThat(sink.isTransient(failure)).isFalse();

    // A processor whose retry policy asks the sink tries the batch once, not four times.
    ChunkReport<String> report =
        ChunkProcessor.builder(Event::id, sink)
            .retryPolicy(
                RetryPolicy.builder()
                    .maxAttempts(4)
                    .backoff(Backoff.fixed(Duration.ofMillis(1)))
                    .retryOn(sink::isTransient)
                    .build())
            .build()
            .process(List.of(List.of(tooLong)));
    assertThat(report.failed()).isEqualTo(1);
    assertThat(counting.executed).hasValue(2);
  }

  @Test
  void aDeadlockIsTriedAgainAfterAShortWait() throws Exception {
    CountingDataSource counting = new CountingDataSource(ds);
    JdbcIdempotentSink<Event, String> sink = sink(counting.dataSource, 500);
    counting.failNext.set(2);

    assertThat(sink.write(events(0, 10))).isEqualTo(10);

    assertThat(counting.executed).hasValue(3);
    assertThat(rows()).isEqualTo(10);
    assertThat(sink.isTransient(counting.failure)).isTrue();
  }

  @Test
  void aDeadlockThatPersistsIsThrownAfterThreeTries() throws Exception {
    CountingDataSource counting = new CountingDataSource(ds);
    JdbcIdempotentSink<Event, String> sink = sink(counting.dataSource, 500);
    counting.failure = new SQLException("could not serialize access", "40001");
    counting.failNext.set(Integer.MAX_VALUE);

    assertThatThrownBy(() -> sink.write(events(0, 10)))
        .isInstanceOf(SQLException.class)
        .hasMessage("could not serialize access");

    assertThat(counting.executed).hasValue(3);
    assertThat(rows()).isZero();
  }

  @Test
  void prefetchesIdsOfATimeWindow() throws Exception {
    JdbcIdempotentSink<Event, String> sink = sink(500);
    sink.write(events(0, 20));
    Set<String> recent = sink.existingIdsSince("occurred_at", event(15).at());
    assertThat(recent).containsExactlyInAnyOrder("evt-15", "evt-16", "evt-17", "evt-18", "evt-19");
    assertThat(sink.existingIds()).hasSize(20);
  }

  @Test
  void rejectsNamesThatAreNotPlainIdentifiers() {
    assertThatThrownBy(
            () -> JdbcIdempotentSink.builder(ds, "event; DROP TABLE x", "id", Event::id, String.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "table must be a plain SQL identifier, optionally schema-qualified (schema.table), was"
                + " 'event; DROP TABLE x'");
    assertThatThrownBy(() -> JdbcIdempotentSink.builder(ds, "event", "1d", Event::id, String.class))
        .hasMessageStartingWith("idColumn must be a plain SQL identifier");
    assertThatThrownBy(() -> sink(500).existingIdsSince("at--", Instant.now()))
        .hasMessageStartingWith("timeColumn must be a plain SQL identifier");
    assertThatThrownBy(
            () ->
                JdbcIdempotentSink.builder(ds, "event", "id", Event::id, String.class)
                    .column("ID", Event::id))
        .hasMessage("column 'ID' is given twice");
    assertThatThrownBy(
            () ->
                JdbcIdempotentSink.builder(ds, "event", "id", Event::id, String.class)
                    .rowsPerStatement(0))
        .hasMessage("rowsPerStatement must be at least 1, was 0");
  }

  @Test
  void chunkProcessorWithOneOrEightPartitionsStoresTheSameRows() throws Exception {
    List<List<Event>> chunks = new ArrayList<>();
    for (int c = 0; c < 10; c++) {
      chunks.add(events(c * 80, c * 80 + 100)); // overlapping chunks: 20 repeats each
    }
    ChunkReport<String> sequential =
        ChunkProcessor.builder(Event::id, sink(500)).partitions(1).build().process(chunks);
    Set<String> afterSequential = sink(500).existingIds();
    createTable();
    ChunkReport<String> partitioned =
        ChunkProcessor.builder(Event::id, sink(500)).partitions(8).build().process(chunks);
    assertThat(sink(500).existingIds()).isEqualTo(afterSequential).hasSize(820);
    assertThat(sequential.inserted()).isEqualTo(820);
    assertThat(partitioned.inserted()).isEqualTo(820);
    assertThat(partitioned.duplicatesInInput()).isEqualTo(180);
  }

  @Test
  void twoProcessorsIngestingOverlappingInputsAtOnce() throws Exception {
    List<List<Event>> first = new ArrayList<>();
    List<List<Event>> second = new ArrayList<>();
    for (int c = 0; c < 20; c++) {
      first.add(events(c * 100, c * 100 + 100)); // ids 0..1999
      second.add(events(1_000 + c * 100, 1_000 + c * 100 + 100)); // ids 1000..2999
    }
    List<ChunkReport<String>> reports = new CopyOnWriteArrayList<>();
    List<Thread> runs = new ArrayList<>();
    for (List<List<Event>> input : List.of(first, second)) {
      JdbcIdempotentSink<Event, String> sink = sink(500);
      runs.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      reports.add(
                          ChunkProcessor.builder(Event::id, sink)
                              .partitions(4)
                              .retryPolicy(dev.fanout.retry.RetryPolicy.builder()
                                  .maxAttempts(10)
                                  .backoff(dev.fanout.retry.Backoff.fixed(java.time.Duration.ofMillis(20)))
                                  .build())
                              .build()
                              .process(input));
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }));
    }
    for (Thread run : runs) {
      run.join();
    }
    assertThat(reports).hasSize(2);
    assertThat(rows()).isEqualTo(3_000);
    assertThat(reports.get(0).failed() + reports.get(1).failed()).isZero();
    assertThat(reports.get(0).inserted() + reports.get(1).inserted()).isEqualTo(3_000);
    assertThat(reports.get(0).duplicatesAtSink() + reports.get(1).duplicatesAtSink())
        .isEqualTo(1_000);
  }
}
