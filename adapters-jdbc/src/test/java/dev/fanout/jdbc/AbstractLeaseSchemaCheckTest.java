package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fanout.lease.Claim;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * The schema checks of {@link LeaseSchema#verify} and of the repository's first connection, and
 * the lease index names, on a real database; one subclass per database.
 */
abstract class AbstractLeaseSchemaCheckTest {
  /** Two table names of 63 characters whose first 49 are the same. */
  static final String LONG_A = "fanout_lease_items_of_the_credential_check_servic_" + "a".repeat(13);

  static final String LONG_B = "fanout_lease_items_of_the_credential_check_servic_" + "b".repeat(13);

  protected abstract DataSource dataSource();

  protected abstract SqlDialect dialect();

  /** How many indexes {@code table} has whose name holds {@code _lease_}. */
  protected abstract long leaseIndexesOf(String table);

  private void recreate(String table, String... ddl) {
    Pools.execute(dataSource(), "DROP TABLE IF EXISTS " + table);
    Pools.execute(dataSource(), ddl);
  }

  /**
   * Regression: index names were the table name cut to 49 characters plus a suffix, so the second
   * of two long names sharing that start got no lease index at all (CREATE INDEX IF NOT EXISTS
   * saw the first table's) and every claim read the whole table.
   */
  @Test
  void twoLongTableNamesWithACommonStartEachGetTheirOwnLeaseIndexes() throws SQLException {
    Pools.execute(dataSource(), "DROP TABLE IF EXISTS " + LONG_A, "DROP TABLE IF EXISTS " + LONG_B);
    for (String name : List.of(LONG_A, LONG_B)) {
      LeaseSchema.execute(dataSource(), LeaseSchema.createTable(dialect(), LeaseTable.named(name)));
    }

    assertThat(leaseIndexesOf(LONG_A)).isEqualTo(2);
    assertThat(leaseIndexesOf(LONG_B)).isEqualTo(2);
    LeaseSchema.verify(dataSource(), dialect(), LeaseTable.named(LONG_A));
    LeaseSchema.verify(dataSource(), dialect(), LeaseTable.named(LONG_B));
  }

  @Test
  void aLeaseIndexNameTakenByAnotherTableFailsNamingIndexAndTables() throws SQLException {
    recreate("other_table", "CREATE TABLE other_table (id BIGINT PRIMARY KEY, x INTEGER)");
    Pools.execute(dataSource(), "CREATE INDEX clash_item_lease_pending ON other_table (x)");
    recreate("clash_item");
    LeaseTable table = LeaseTable.named("clash_item");
    LeaseSchema.execute(dataSource(), LeaseSchema.createTable(dialect(), table));

    assertThatThrownBy(() -> LeaseSchema.verify(dataSource(), dialect(), table))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("lease index clash_item_lease_pending belongs to table ")
        .hasMessageContaining("not to table clash_item")
        .satisfies(e -> assertThat(e.getMessage().toLowerCase(Locale.ROOT)).contains("other_table"));
    JdbcClaimLeaseRepository<Long> repository =
        JdbcClaimLeaseRepository.forIds(dataSource(), Long.class).table(table).build();
    assertThatThrownBy(() -> repository.claim("w", 1, Duration.ofMinutes(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("clash_item_lease_pending");
  }

  /**
   * Regression: ADD COLUMN IF NOT EXISTS kept a lease column that existed already with another
   * type, and the mismatch only showed at the first claim, as an error from inside a statement.
   */
  @Test
  void aLeaseColumnOfTheWrongTypeFailsTheFirstCallNamingColumnAndTypes() throws SQLException {
    recreate(
        "typed_credential",
        "CREATE TABLE typed_credential (id BIGINT PRIMARY KEY, lease_owner INTEGER)");
    LeaseTable table = LeaseTable.named("typed_credential");
    LeaseSchema.execute(dataSource(), LeaseSchema.addLeaseColumns(dialect(), table));
    Pools.execute(dataSource(), "INSERT INTO typed_credential (id) VALUES (1)");
    JdbcClaimLeaseRepository<Long> repository =
        JdbcClaimLeaseRepository.forIds(dataSource(), Long.class).table(table).build();

    assertThatThrownBy(() -> repository.claim("worker-1", 1, Duration.ofMinutes(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(
            "column lease_owner of table typed_credential has type integer, expected a text type,"
                + " such as VARCHAR(255)");
    assertThatThrownBy(() -> LeaseSchema.verify(dataSource(), dialect(), table))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("lease_owner");
  }

  @Test
  void aShortStatusColumnFailsNamingItsLength() throws SQLException {
    recreate(
        "short_status",
        "CREATE TABLE short_status (id BIGINT PRIMARY KEY, lease_status VARCHAR(4))");
    LeaseTable table = LeaseTable.named("short_status");
    LeaseSchema.execute(dataSource(), LeaseSchema.addLeaseColumns(dialect(), table));

    assertThatThrownBy(() -> LeaseSchema.verify(dataSource(), dialect(), table))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(
            "column lease_status of table short_status has type character varying(4), expected a"
                + " text type of at least 9 characters");
  }

  @Test
  void aTableMadeByTheDdlPassesTheChecksAndIsUsable() throws SQLException {
    recreate("fitting_item");
    LeaseTable table = LeaseTable.named("fitting_item");
    LeaseSchema.execute(dataSource(), LeaseSchema.createTable(dialect(), table));
    LeaseSchema.verify(dataSource(), dialect(), table);
    Pools.execute(dataSource(), "INSERT INTO fitting_item (id) VALUES (1)");
    JdbcClaimLeaseRepository<Long> repository =
        JdbcClaimLeaseRepository.forIds(dataSource(), Long.class).table(table).build();

    List<Claim<Long>> claims = repository.claim("w", 1, Duration.ofMinutes(1));

    assertThat(claims).extracting(Claim::item).containsExactly(1L);
  }

  @Test
  void aMissingTableIsNamed() {
    assertThatThrownBy(
            () -> LeaseSchema.verify(dataSource(), dialect(), LeaseTable.named("no_such_table")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("table no_such_table does not exist");
  }

  /** Every refused word is refused by at least one of the databases, as a plain table name. */
  protected boolean refusedAsTableName(String word) {
    try (Connection c = dataSource().getConnection();
        var s = c.createStatement()) {
      s.execute("CREATE TABLE " + word + " (id INTEGER)");
      s.execute("DROP TABLE " + word);
      return false;
    } catch (SQLException e) {
      return true;
    }
  }
}
