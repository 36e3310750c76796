package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.testing.postgres.PostgresServer;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class PostgresLeaseSchemaCheckTest extends AbstractLeaseSchemaCheckTest {
  private static HikariDataSource pool;
  private static HikariDataSource h2;

  @BeforeAll
  static void openPool(PostgresServer server) {
    pool = Pools.pool(server.createDatabase("schema_check"), 4);
    h2 = Pools.h2("reserved-words", 1);
  }

  @AfterAll
  static void closePool() {
    pool.close();
    h2.close();
  }

  @Override
  protected DataSource dataSource() {
    return pool;
  }

  @Override
  protected SqlDialect dialect() {
    return SqlDialect.POSTGRESQL;
  }

  @Override
  protected long leaseIndexesOf(String table) {
    return Pools.count(
        pool,
        "SELECT COUNT(*) FROM pg_indexes WHERE tablename = '"
            + table
            + "' AND indexname ~ '_lease_(pending|claimed)$'");
  }

  /** The refused words are exactly words that PostgreSQL or H2 refuses as a plain name. */
  @Test
  void everyRefusedWordIsReservedInPostgresqlOrH2() {
    List<String> acceptedByBoth =
        SqlIdentifiers.reservedWords().stream()
            .filter(w -> !refusedAsTableName(w) && !refusedByH2(w))
            .sorted()
            .toList();

    assertThat(acceptedByBoth).isEmpty();
    assertThat(refusedAsTableName("user")).isTrue(); // the check itself can tell
    assertThat(refusedAsTableName("credential")).isFalse();
  }

  private static boolean refusedByH2(String word) {
    try (var c = h2.getConnection();
        var s = c.createStatement()) {
      s.execute("CREATE TABLE " + word + " (id INTEGER)");
      s.execute("DROP TABLE " + word);
      return false;
    } catch (java.sql.SQLException e) {
      return true;
    }
  }
}
