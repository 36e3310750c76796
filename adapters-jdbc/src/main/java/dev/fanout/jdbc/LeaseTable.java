package dev.fanout.jdbc;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Where {@link JdbcClaimLeaseRepository} keeps leases: a table and the names of its id column and
 * of the eight lease columns. Every name is checked to be a plain SQL identifier (letters, digits
 * and underscores, not starting with a digit, at most 63 characters; the table may be {@code
 * schema.table}) and not a word PostgreSQL or H2 reserves ({@code user}, {@code order}, {@code
 * value}...); anything else is refused with a message naming the field and the value, so a
 * configured name can never inject SQL nor break a statement. Names are not quoted, so they follow
 * the database's case rules, as in hand-written SQL.
 *
 * {@snippet :
 * LeaseTable dedicated = LeaseTable.defaults();            // fanout_lease_item, id, lease_*
 * LeaseTable credentials = LeaseTable.named("credential")  // rows of an existing table
 *     .withIdColumn("credential_id");
 * }
 *
 * @param table the table
 * @param idColumn the primary key, which tells items apart
 * @param statusColumn {@code PENDING}, {@code CLAIMED}, {@code COMPLETED} or {@code FAILED}
 *     (text, at least 9 characters)
 * @param tokenColumn the fencing token (bigint), raised by each claim
 * @param ownerColumn the worker that holds or last settled the item (text); NULL after the reaper
 *     took the item back
 * @param claimedAtColumn when the last claim was granted (timestamp with time zone)
 * @param leaseUntilColumn when the current lease ends; null unless CLAIMED
 * @param availableAtColumn from when a PENDING item may be claimed (timestamp with time zone)
 * @param attemptsColumn how many claims the item had, given-back ones excepted (integer)
 * @param errorColumn the reason the item failed (text)
 */
public record LeaseTable(
    String table,
    String idColumn,
    String statusColumn,
    String tokenColumn,
    String ownerColumn,
    String claimedAtColumn,
    String leaseUntilColumn,
    String availableAtColumn,
    String attemptsColumn,
    String errorColumn) {

  /** The table of {@link #defaults()}. */
  public static final String DEFAULT_TABLE = "fanout_lease_item";

  /** The prefix of the default lease column names. */
  public static final String DEFAULT_PREFIX = "lease_";

  /** Checks every name; see the class documentation. */
  public LeaseTable {
    SqlIdentifiers.table("table", Objects.requireNonNull(table, "table must not be null"));
    Map<String, String> seen = new HashMap<>();
    List<String> fields =
        List.of(
            "idColumn",
            "statusColumn",
            "tokenColumn",
            "ownerColumn",
            "claimedAtColumn",
            "leaseUntilColumn",
            "availableAtColumn",
            "attemptsColumn",
            "errorColumn");
    List<String> names =
        Arrays.asList(
            idColumn,
            statusColumn,
            tokenColumn,
            ownerColumn,
            claimedAtColumn,
            leaseUntilColumn,
            availableAtColumn,
            attemptsColumn,
            errorColumn);
    for (int i = 0; i < fields.size(); i++) {
      String field = fields.get(i);
      String name =
          SqlIdentifiers.column(
              field, Objects.requireNonNull(names.get(i), field + " must not be null"));
      String earlier = seen.put(name.toLowerCase(Locale.ROOT), field);
      if (earlier != null) {
        throw new IllegalArgumentException(
            field + " must differ from " + earlier + ", both were '" + name + "'");
      }
    }
  }

  /** The dedicated table {@value #DEFAULT_TABLE} with id column {@code id}; see {@link #named}. */
  public static LeaseTable defaults() {
    return named(DEFAULT_TABLE);
  }

  /**
   * {@code table} with id column {@code id} and the lease columns {@code lease_status}, {@code
   * lease_token}, {@code lease_owner}, {@code lease_claimed_at}, {@code lease_until}, {@code
   * lease_available_at}, {@code lease_attempts} and {@code lease_error}.
   */
  public static LeaseTable named(String table) {
    return new LeaseTable(table, "id", DEFAULT_PREFIX);
  }

  private LeaseTable(String table, String idColumn, String prefix) {
    this(
        table,
        idColumn,
        prefix + "status",
        prefix + "token",
        prefix + "owner",
        prefix + "claimed_at",
        prefix + "until",
        prefix + "available_at",
        prefix + "attempts",
        prefix + "error");
  }

  /** This table with another id column. */
  public LeaseTable withIdColumn(String idColumn) {
    return new LeaseTable(
        table,
        idColumn,
        statusColumn,
        tokenColumn,
        ownerColumn,
        claimedAtColumn,
        leaseUntilColumn,
        availableAtColumn,
        attemptsColumn,
        errorColumn);
  }

  /**
   * This table with the lease columns named {@code <prefix>status}, {@code <prefix>token},
   * {@code <prefix>owner}, {@code <prefix>claimed_at}, {@code <prefix>until}, {@code
   * <prefix>available_at}, {@code <prefix>attempts} and {@code <prefix>error}.
   */
  public LeaseTable withLeaseColumnPrefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    return new LeaseTable(table, idColumn, prefix);
  }

  /** The table name without its schema, for naming indexes. */
  String baseName() {
    int dot = table.lastIndexOf('.');
    return dot < 0 ? table : table.substring(dot + 1);
  }
}
