package dev.fanout.retry;

import java.io.Serial;
import org.jspecify.annotations.Nullable;

/**
 * Thrown instead of retrying when the shared {@link RetryBudget} is spent: so many calls failed
 * lately that retrying would only add load (a retry storm). The {@linkplain #getCause() cause} is
 * the last error of the call, so nothing is lost.
 *
 * <p>In a storm every failing call ends with this exception, so it carries no stack trace.
 */
public final class RetryBudgetExhaustedException extends RuntimeException {
  @Serial private static final long serialVersionUID = 1L;

  private final int attempts;

  /**
   * @param budget the budget that was spent
   * @param attempts how many attempts the call made before it stopped
   * @param lastError the call's last error, or {@code null} if its last attempt returned a
   *     result that asked for a retry
   */
  public RetryBudgetExhaustedException(
      RetryBudget budget, int attempts, @Nullable Throwable lastError) {
    super(message(budget, attempts, lastError), lastError, true, false);
    this.attempts = attempts;
  }

  private static String message(RetryBudget budget, int attempts, @Nullable Throwable lastError) {
    return "retry budget '"
        + budget.name()
        + "' is spent ("
        + budget.available()
        + " of "
        + budget.capacity()
        + " tokens left, a retry costs "
        + budget.retryCost()
        + "): not retrying after attempt "
        + attempts
        + (lastError == null ? " (its result asked for a retry)" : ": " + lastError);
  }

  /** How many attempts the call made before it stopped. */
  public int attempts() {
    return attempts;
  }
}
