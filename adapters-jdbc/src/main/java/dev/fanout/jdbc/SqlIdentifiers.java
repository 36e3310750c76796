package dev.fanout.jdbc;

import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks table and column names before they go into SQL: the adapters never concatenate a name
 * that is not a plain identifier, so a configured name cannot inject SQL.
 *
 * <p>Names are not quoted (so that they follow the database's case rules, as in hand-written
 * SQL), so a name must also not be a reserved word: {@code user} or {@code order} would pass the
 * pattern and then break every statement with a syntax error. The words refused are those
 * PostgreSQL (its "reserved" and "reserved, can be function or type" keywords) or H2 2.x (its
 * keywords) refuse as a plain table name, compared without regard to case. Words that only
 * the SQL standard reserves, and both databases accept ({@code position}, {@code range}), are
 * allowed.
 */
final class SqlIdentifiers {
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
  private static final Pattern QUALIFIED =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?");

  /** Reserved in PostgreSQL 15 or H2 2.x: a plain identifier of this name is a syntax error. */
  private static final Set<String> RESERVED =
      Set.of(
          // PostgreSQL, reserved and reserved (can be function or type)
          "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
          "authorization", "binary", "both", "case", "cast", "check", "collate", "collation",
          "column", "concurrently", "constraint", "create", "cross", "current_catalog",
          "current_date", "current_role", "current_schema", "current_time", "current_timestamp",
          "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
          "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group",
          "having", "ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull",
          "join", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp",
          "natural", "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer",
          "overlaps", "placing", "primary", "references", "returning", "right", "select",
          "session_user", "similar", "some", "symmetric", "system_user", "table", "tablesample",
          "then", "to", "trailing", "true", "union", "unique", "user", "using", "variadic",
          "verbose", "when", "where", "window", "with",
          // H2 2.x keywords not in the list above
          "between", "current_path", "day", "exists", "hour", "if", "interval",
          "key", "minus", "minute", "month", "qualify",
          "row", "rownum", "second", "set", "uescape", "unknown", "value", "values",
          "year", "_rowid_");

  private SqlIdentifiers() {}

  /** A column name: letters, digits and underscores, not starting with a digit, at most 63. */
  static String column(String what, String name) {
    Objects.requireNonNull(name, what);
    if (!IDENTIFIER.matcher(name).matches()) {
      throw new IllegalArgumentException(
          what
              + " must be a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 characters),"
              + " was '"
              + name
              + "'");
    }
    notReserved(what, name, name);
    return name;
  }

  /** A table name, optionally qualified by a schema ({@code schema.table}). */
  static String table(String what, String name) {
    Objects.requireNonNull(name, what);
    if (!QUALIFIED.matcher(name).matches()) {
      throw new IllegalArgumentException(
          what
              + " must be a plain SQL identifier, optionally schema-qualified (schema.table), was '"
              + name
              + "'");
    }
    for (String part : name.split("\\.")) {
      notReserved(what, name, part);
    }
    return name;
  }

  /** The reserved words, in lower case. */
  static Set<String> reservedWords() {
    return RESERVED;
  }

  /** Whether {@code name} is a reserved word in PostgreSQL or H2. */
  static boolean isReserved(String name) {
    return RESERVED.contains(name.toLowerCase(Locale.ROOT));
  }

  private static void notReserved(String what, String name, String part) {
    if (isReserved(part)) {
      throw new IllegalArgumentException(
          what
              + " must not be an SQL reserved word ('"
              + part
              + "' is reserved in PostgreSQL or H2, and names are not quoted), was '"
              + name
              + "'");
    }
  }
}
