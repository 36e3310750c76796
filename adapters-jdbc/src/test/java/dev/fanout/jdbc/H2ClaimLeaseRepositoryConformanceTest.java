package dev.fanout.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.lease.ClaimLeaseRepository;
import dev.fanout.testkit.AbstractClaimLeaseRepositoryTest;
import java.time.Instant;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The conformance kit on H2: a dedicated table, items are the ids. */
class H2ClaimLeaseRepositoryConformanceTest extends AbstractClaimLeaseRepositoryTest<Long> {
  private static HikariDataSource pool;
  private JdbcClaimLeaseRepository<Long> repository;
  private long nextId;

  @BeforeAll
  static void openPool() {
    pool = Pools.h2("lease-conformance", 16);
  }

  @AfterAll
  static void closePool() {
    pool.close();
  }

  @Override
  protected ClaimLeaseRepository<Long> createRepository() {
    Pools.execute(pool, "DROP TABLE IF EXISTS " + LeaseTable.DEFAULT_TABLE);
    Pools.execute(
        pool, LeaseSchema.createTable(SqlDialect.H2, LeaseTable.defaults()).toArray(String[]::new));
    repository = JdbcClaimLeaseRepository.forIds(pool, Long.class).build();
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
            + LeaseTable.DEFAULT_TABLE
            + " (id, payload) SELECT X, 'item ' || X FROM SYSTEM_RANGE("
            + ids.get(0)
            + ", "
            + ids.get(n - 1)
            + ") ORDER BY X");
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
