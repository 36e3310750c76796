package dev.fanout.jdbc;

import java.sql.SQLException;
import java.sql.SQLNonTransientException;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Tells SQL failures that trying again may fix from those it cannot, by their SQLState: the
 * JDBC sink and the claim-lease repository use it to decide what a retry is worth.
 *
 * <table>
 *   <caption>SQLStates by outcome</caption>
 *   <tr><th>SQLState</th><th>meaning</th><th>transient</th></tr>
 *   <tr><td>{@code 40001}, {@code 40P01}</td><td>serialization failure, deadlock</td>
 *       <td>yes: {@link #isConflict conflict}, worth a retry after a short wait</td></tr>
 *   <tr><td>{@code 08xxx}</td><td>connection exception</td><td>yes</td></tr>
 *   <tr><td>{@code 40003}, {@code 53xxx}, {@code 55P03}, {@code 57014}, {@code 57P01}..{@code
 *       57P03}, {@code HYT00}, {@code HYT01}</td>
 *       <td>statement completion unknown, insufficient resources, lock not available, statement
 *       cancelled (timeout), server shutting down or starting, timeouts</td><td>yes</td></tr>
 *   <tr><td>{@code 22xxx}</td><td>data exception (value too long, bad number...)</td>
 *       <td>no</td></tr>
 *   <tr><td>{@code 23xxx}</td><td>integrity constraint violation (not null, check, foreign
 *       key)</td><td>no</td></tr>
 *   <tr><td>{@code 42xxx}</td><td>syntax error or access rule violation (unknown table or
 *       column, wrong type, no privilege)</td><td>no</td></tr>
 *   <tr><td>{@code 0Axxx}, {@code 21xxx}, {@code 28xxx}, {@code 3Dxxx}, {@code 3Fxxx}, {@code
 *       44xxx}, {@code 40002}</td><td>feature not supported, cardinality, authorization, unknown
 *       database or schema, check option, constraint violated at commit</td><td>no</td></tr>
 * </table>
 *
 * An {@link SQLException} without a known SQLState is non-transient if it is a {@link
 * SQLNonTransientException}, else transient; a failure with no {@code SQLException} in it at all
 * is transient (nothing says otherwise). The first SQLException with a known SQLState decides,
 * searched through {@linkplain Throwable#getCause() causes} and {@linkplain
 * SQLException#getNextException() next exceptions}, so a driver's wrapped or chained errors are
 * classified by what the server said.
 */
public final class SqlErrors {
  private SqlErrors() {}

  /**
   * Whether trying the failed work again may succeed.
   *
   * @param failure what the work threw
   * @return {@code false} for data, integrity, syntax and access errors (no retry can fix them),
   *     {@code true} otherwise
   */
  public static boolean isTransient(Throwable failure) {
    Verdict verdict = classify(failure);
    return verdict != Verdict.PERMANENT;
  }

  /**
   * Whether the work lost a race with another transaction: a deadlock ({@code 40P01}) or a
   * serialization failure ({@code 40001}). The transaction was rolled back; running it again
   * after a short, randomised wait usually succeeds.
   */
  public static boolean isConflict(Throwable failure) {
    return classify(failure) == Verdict.CONFLICT;
  }

  /** Whether an SQLException in {@code failure}'s causes or chains has SQLState {@code state}. */
  static boolean hasState(Throwable failure, String state) {
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Throwable t = failure; t != null && seen.add(t); t = t.getCause()) {
      if (t instanceof SQLException sql) {
        for (SQLException e = sql; e != null; e = e.getNextException()) {
          if (state.equals(e.getSQLState())) {
            return true;
          }
          if (e.getNextException() != null && !seen.add(e.getNextException())) {
            break;
          }
        }
      }
    }
    return false;
  }

  private enum Verdict {
    CONFLICT,
    TRANSIENT,
    PERMANENT
  }

  private static Verdict classify(Throwable failure) {
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    Verdict byType = null;
    for (Throwable t = failure; t != null && seen.add(t); t = t.getCause()) {
      if (t instanceof SQLException sql) {
        for (SQLException e = sql; e != null; e = e.getNextException()) {
          Verdict verdict = byState(e.getSQLState());
          if (verdict != null) {
            return verdict;
          }
          if (byType == null) {
            byType = e instanceof SQLNonTransientException ? Verdict.PERMANENT : Verdict.TRANSIENT;
          }
          if (e.getNextException() != null && !seen.add(e.getNextException())) {
            break;
          }
        }
      }
    }
    return byType == null ? Verdict.TRANSIENT : byType;
  }

  private static @Nullable Verdict byState(@Nullable String state) {
    if (state == null || state.length() != 5) {
      return null;
    }
    switch (state) {
      case "40001", "40P01" -> {
        return Verdict.CONFLICT;
      }
      case "40002" -> {
        return Verdict.PERMANENT;
      }
      case "40003", "55P03", "57014", "57P01", "57P02", "57P03", "HYT00", "HYT01" -> {
        return Verdict.TRANSIENT;
      }
      default -> {}
    }
    return switch (state.substring(0, 2)) {
      case "08", "53" -> Verdict.TRANSIENT;
      case "0A", "21", "22", "23", "28", "3D", "3F", "42", "44" -> Verdict.PERMANENT;
      default -> null;
    };
  }
}
