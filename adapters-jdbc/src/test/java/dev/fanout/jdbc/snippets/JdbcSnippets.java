package dev.fanout.jdbc.snippets;

import dev.fanout.jdbc.JdbcClaimLeaseRepository;
import dev.fanout.jdbc.JdbcIdempotentSink;
import dev.fanout.jdbc.LeaseSchema;
import dev.fanout.jdbc.LeaseTable;
import dev.fanout.jdbc.SqlDialect;
import dev.fanout.lease.Claim;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;

/**
 * The usage examples of {@link JdbcClaimLeaseRepository} and {@link JdbcIdempotentSink}'s javadoc,
 * which shows the regions marked here ({@code {@snippet file=... region=...}}). Compiled with the
 * tests, so a guide cannot drift from the API; never run.
 */
final class JdbcSnippets {
  private JdbcSnippets() {}

  /** An event as a user's ingestion defines it. */
  record Event(String id, String provider, Instant occurredAt, String payload) {}

  static List<Claim<Long>> claimLease(DataSource dataSource) throws SQLException {
    // @start region="claim-lease"
    LeaseTable table = LeaseTable.named("credential");
    LeaseSchema.execute(dataSource, LeaseSchema.addLeaseColumns(SqlDialect.POSTGRESQL, table));
    JdbcClaimLeaseRepository<Long> repository =
        JdbcClaimLeaseRepository.forIds(dataSource, Long.class).table(table).build();
    List<Claim<Long>> claims = repository.claim("worker-1", 10, Duration.ofMinutes(1));
    // @end
    return claims;
  }

  static Set<String> idempotentSink(DataSource dataSource) throws SQLException {
    // @start region="idempotent-sink"
    JdbcIdempotentSink<Event, String> sink =
        JdbcIdempotentSink.builder(dataSource, "event", "id", Event::id, String.class)
            .column("provider", Event::provider)
            .column("occurred_at", e -> Timestamp.from(e.occurredAt()))
            .column("payload", Event::payload)
            .build();
    Set<String> recent = sink.existingIdsSince("occurred_at", Instant.now().minus(Duration.ofDays(30)));
    // @end
    return recent;
  }
}
