package dev.fanout.examples;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.chunk.ChunkProcessor;
import dev.fanout.chunk.ChunkReport;
import dev.fanout.chunk.IdempotentSink;
import dev.fanout.jdbc.JdbcIdempotentSink;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Event ingestion, sequential vs hash-partitioned, into a table with a unique id: generates
 * chunks of events with duplicates inside and across chunks, pre-fetches the ids stored in the
 * last 30 days, ingests the same input with 1 partition (the safe sequential mode) and with
 * 8, into two fresh tables, and prints both reports, both timings and whether the tables match.
 *
 * <p>Embedded H2 by default; each batch write is given {@code latencyMs} of simulated network
 * latency, since H2 runs inside this process. For PostgreSQL pass {@code jdbcUrl=...} (and
 * {@code user=} / {@code password=}, {@code latencyMs=0}).
 *
 * <p>Arguments (all optional): {@code events=20000 chunk=1000 partitions=8 latencyMs=5}.
 */
public final class ChunkIngestExample {
  private ChunkIngestExample() {}

  /** An ingested event: its id is derived from its content, so a repeat has the same id. */
  record Event(String id, String provider, Instant occurredAt, String payload) {}

  public static void main(String[] args) throws Exception {
    int events = ExampleArgs.number(args, "events", 20_000);
    int chunkSize = ExampleArgs.number(args, "chunk", 1_000);
    int partitions = ExampleArgs.number(args, "partitions", 8);
    int latencyMs = ExampleArgs.number(args, "latencyMs", 5, 0);
    String url = ExampleArgs.value(args, "jdbcUrl", "jdbc:h2:mem:ingest-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");

    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername(ExampleArgs.value(args, "user", url.startsWith("jdbc:h2") ? "sa" : "postgres"));
    config.setPassword(ExampleArgs.value(args, "password", ""));
    config.setMaximumPoolSize(partitions + 2);
    try (HikariDataSource dataSource = new HikariDataSource(config)) {
      List<List<Event>> chunks = generate(events, chunkSize);
      System.out.printf(
          "Ingesting %d events in %d chunks (with repeats) into %s, %d ms per batch write%n",
          events, chunks.size(), dataSource.getConnection().getMetaData().getDatabaseProductName(), latencyMs);

      ChunkReport<String> sequential = ingest(dataSource, "event_sequential", chunks, 1, latencyMs);
      System.out.println("sequential (1 partition):   " + sequential.summary());
      ChunkReport<String> parallel = ingest(dataSource, "event_partitioned", chunks, partitions, latencyMs);
      System.out.printf("partitioned (%d partitions): %s%n", partitions, parallel.summary());

      boolean same =
          sink(dataSource, "event_sequential").existingIds()
              .equals(sink(dataSource, "event_partitioned").existingIds());
      System.out.printf(
          Locale.ROOT,
          "tables identical: %s; sequential %.2f s, partitioned %.2f s: %.1fx faster%n",
          same,
          sequential.elapsed().toNanos() / 1e9,
          parallel.elapsed().toNanos() / 1e9,
          (double) sequential.elapsed().toNanos() / parallel.elapsed().toNanos());
    }
  }

  private static ChunkReport<String> ingest(
      HikariDataSource dataSource, String table, List<List<Event>> chunks, int partitions, int latencyMs)
      throws Exception {
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + table);
      s.execute(
          "CREATE TABLE " + table + " (id VARCHAR(64) PRIMARY KEY, provider VARCHAR(32) NOT NULL,"
              + " occurred_at TIMESTAMP WITH TIME ZONE NOT NULL, payload VARCHAR(200))");
    }
    JdbcIdempotentSink<Event, String> sink = sink(dataSource, table);
    // Rows an earlier run stored: some inside the 30-day pre-fetch window, some older.
    List<Event> earlier = new ArrayList<>();
    for (int i = 0; i < chunks.size() * 20; i++) {
      Event e = chunks.get(i % chunks.size()).get(i / chunks.size());
      earlier.add(e);
    }
    sink.write(earlier);
    Instant since = Instant.now().minus(Duration.ofDays(30));
    IdempotentSink<Event> slow =
        batch -> {
          if (latencyMs > 0) {
            Thread.sleep(latencyMs);
          }
          return sink.write(batch);
        };
    return ChunkProcessor.builder(Event::id, slow)
        .partitions(partitions)
        .existingIds(sink.existingIdsSince("occurred_at", since))
        .name(table)
        .build()
        .process(chunks);
  }

  private static JdbcIdempotentSink<Event, String> sink(HikariDataSource dataSource, String table)
      throws SQLException {
    return JdbcIdempotentSink.builder(dataSource, table, "id", Event::id, String.class)
        .column("provider", Event::provider)
        .column("occurred_at", e -> Timestamp.from(e.occurredAt()))
        .column("payload", Event::payload)
        .build();
  }

  /** Events over the last 60 days; 10% repeat an earlier event (same content, same id). */
  static List<List<Event>> generate(int events, int chunkSize) {
    SplittableRandom random = new SplittableRandom(7);
    Instant now = Instant.now();
    List<Event> all = new ArrayList<>(events);
    for (int i = 0; i < events; i++) {
      if (i > 0 && random.nextInt(10) == 0) {
        all.add(all.get(random.nextInt(i)));
        continue;
      }
      Instant at = now.minusSeconds(random.nextLong(60L * 24 * 3600));
      String provider = "provider-" + random.nextInt(5);
      String payload = "alert " + Long.toHexString(random.nextLong());
      all.add(new Event(UUID.nameUUIDFromBytes((provider + at + payload).getBytes()).toString(), provider, at, payload));
    }
    List<List<Event>> chunks = new ArrayList<>();
    for (int from = 0; from < all.size(); from += chunkSize) {
      chunks.add(all.subList(from, Math.min(all.size(), from + chunkSize)));
    }
    return chunks;
  }
}
