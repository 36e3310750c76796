package dev.fanout.jdbc;

import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Makes an item out of the current row of a result set; the row has every column of the table.
 * Like Spring's {@code RowMapper}, without the row number.
 *
 * @param <T> the item type
 */
@FunctionalInterface
public interface RowMapper<T> {

  /** The item of the current row; must not advance the result set. */
  T map(ResultSet row) throws SQLException;
}
