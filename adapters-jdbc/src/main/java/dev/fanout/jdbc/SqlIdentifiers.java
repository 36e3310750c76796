package dev.fanout.jdbc;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Checks table and column names before they go into SQL: the adapters never concatenate a name
 * that is not a plain identifier, so a configured name cannot inject SQL.
 */
final class SqlIdentifiers {
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
  private static final Pattern QUALIFIED =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?");

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
    return name;
  }
}
