package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LeaseTableTest {

  @Test
  void defaultsNameTheDedicatedTableAndLeaseColumns() {
    LeaseTable t = LeaseTable.defaults();

    assertThat(t.table()).isEqualTo("fanout_lease_item");
    assertThat(
            List.of(
                t.idColumn(),
                t.statusColumn(),
                t.tokenColumn(),
                t.ownerColumn(),
                t.claimedAtColumn(),
                t.leaseUntilColumn(),
                t.availableAtColumn(),
                t.attemptsColumn(),
                t.errorColumn()))
        .containsExactly(
            "id",
            "lease_status",
            "lease_token",
            "lease_owner",
            "lease_claimed_at",
            "lease_until",
            "lease_available_at",
            "lease_attempts",
            "lease_error");
  }

  @Test
  void existingTableWithItsOwnIdAndPrefix() {
    LeaseTable t =
        LeaseTable.named("app.credential")
            .withIdColumn("credential_id")
            .withLeaseColumnPrefix("claim_");

    assertThat(t.table()).isEqualTo("app.credential");
    assertThat(t.idColumn()).isEqualTo("credential_id");
    assertThat(t.statusColumn()).isEqualTo("claim_status");
    assertThat(t.leaseUntilColumn()).isEqualTo("claim_until");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "credential; DROP TABLE credential", "cred ential", "\"credential\"", "1credential",
        "credential--", "", "a.b.c", "schema.",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      })
  void tableNamesThatAreNotIdentifiersAreRefused(String name) {
    assertThatThrownBy(() -> LeaseTable.named(name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("table must be a plain SQL identifier")
        .hasMessageContaining("'" + name + "'");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "id; --",
        "id)",
        "a b",
        "9id",
        "",
        "ïd",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      })
  void columnNamesThatAreNotIdentifiersAreRefused(String name) {
    assertThatThrownBy(() -> LeaseTable.defaults().withIdColumn(name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("idColumn must be a plain SQL identifier")
        .hasMessageContaining("'" + name + "'");
  }

  /**
   * Regression: reserved words passed the identifier check and broke the first claim with a
   * syntax error; names are not quoted, so they are refused when the table is described.
   */
  @ParameterizedTest
  @ValueSource(strings = {"user", "USER", "order", "app.user", "user.job", "select", "value"})
  void reservedWordsAreRefusedAsTableNames(String name) {
    assertThatThrownBy(() -> LeaseTable.named(name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("table must not be an SQL reserved word")
        .hasMessageEndingWith("was '" + name + "'");
  }

  @Test
  void reservedWordsAreRefusedAsColumnNames() {
    assertThatThrownBy(() -> LeaseTable.named("job").withIdColumn("order"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "idColumn must not be an SQL reserved word ('order' is reserved in PostgreSQL or H2,"
                + " and names are not quoted), was 'order'");
    assertThatThrownBy(
            () -> JdbcIdempotentSink.builder(Pools.h2("x", 1), "event", "user", e -> e, Object.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("idColumn must not be an SQL reserved word");
    assertThat(LeaseTable.named("users").withIdColumn("user_id").table()).isEqualTo("users");
  }

  @Test
  void badPrefixIsReportedOnTheFirstColumnItBreaks() {
    assertThatThrownBy(() -> LeaseTable.defaults().withLeaseColumnPrefix("1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("statusColumn must be a plain SQL identifier")
        .hasMessageContaining("'1status'");
  }

  @Test
  void columnsMustDiffer() {
    assertThatThrownBy(() -> LeaseTable.defaults().withIdColumn("LEASE_TOKEN"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tokenColumn must differ from idColumn, both were 'lease_token'");
  }

  @Test
  void nullNamesAreRefusedByField() {
    assertThatNullPointerException()
        .isThrownBy(() -> new LeaseTable("t", "id", null, "a", "b", "c", "d", "e", "f", "g"))
        .withMessage("statusColumn must not be null");
  }

  @Test
  void builderRefusesANonPositiveErrorLength() {
    assertThatThrownBy(
            () -> JdbcClaimLeaseRepository.forIds(Pools.h2("x", 1), Long.class).errorLength(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("errorLength must be at least 1, was 0");
  }
}
