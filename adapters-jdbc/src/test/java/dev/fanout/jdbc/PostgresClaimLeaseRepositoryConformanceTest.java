package dev.fanout.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.lease.ClaimLeaseRepository;
import dev.fanout.testing.postgres.PostgresServer;
import dev.fanout.testkit.AbstractClaimLeaseRepositoryTest;
import java.time.Instant;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/** The conformance kit on a real PostgreSQL server: a dedicated table, items are the ids. */
@ExtendWith(PostgresExtension.class)
class PostgresClaimLeaseRepositoryConformanceTest extends AbstractClaimLeaseRepositoryTest<Long> {
  private static final String TABLE = "conformance_item";
  private static HikariDataSource pool;
  private JdbcClaimLeaseRepository<Long> repository;
  private long nextId;

  @BeforeAll
  static void openPool(PostgresServer server) {
    pool = Pools.pool(server.createDatabase("conformance"), 16);
  }

  @AfterAll
  static void closePool() {
    pool.close();
  }

  @Override
  protected ClaimLeaseRepository<Long> createRepository() {
    LeaseTable table = LeaseTable.named(TABLE);
    Pools.execute(pool, "DROP TABLE IF EXISTS " + TABLE);
    Pools.execute(
        pool, LeaseSchema.createTable(SqlDialect.POSTGRESQL, table).toArray(String[]::new));
    repository = JdbcClaimLeaseRepository.forIds(pool, Long.class).table(table).build();
    nextId = 1;
    return repository;
  }

  @Override
  protected List<Long> addItems(int n) {
    List<Long> ids = LongStream.range(nextId, nextId + n).boxed().toList();
    nextId += n;
    Pools.execute(
        pool,
        "INSERT INTO "
            + TABLE
            + " (id, payload) SELECT g, 'item ' || g FROM generate_series("
            + ids.get(0)
            + ", "
            + ids.get(n - 1)
            + ") g ORDER BY g");
    return ids;
  }

  @Override
  protected Long unknownItem() {
    return -1L;
  }

  @Override
  protected Instant now() {
    return repository.databaseTime();
  }
}
