package dev.fanout.retry;

/**
 * How a {@link Backoff} spreads its delays so that clients which failed together do not retry
 * together. With {@code base(n) = min(max, initial * multiplier^(n-1))} for retry {@code n}:
 *
 * <table>
 *   <caption>Delay of retry n</caption>
 *   <tr><th>jitter</th><th>delay</th><th>bounds</th></tr>
 *   <tr><td>{@link #NONE}</td><td>{@code base(n)}</td><td>exactly {@code base(n)}</td></tr>
 *   <tr><td>{@link #FULL}</td><td>uniform in {@code [0, base(n)]}</td><td>{@code [0, base(n)]}</td></tr>
 *   <tr><td>{@link #EQUAL}</td><td>{@code base(n)/2} + uniform in {@code [0, base(n)/2]}</td>
 *       <td>{@code [base(n)/2, base(n)]}</td></tr>
 *   <tr><td>{@link #DECORRELATED}</td><td>uniform in {@code [initial, 3 * previous]}, at most
 *       {@code max}</td><td>{@code [initial, max]}</td></tr>
 * </table>
 *
 * The names and formulas are those of the AWS Architecture Blog's "Exponential Backoff And
 * Jitter"; {@code FULL} spreads load best, {@code EQUAL} keeps a floor under each wait.
 */
public enum Jitter {
  /** No randomness: the exponential (or fixed) delay itself. */
  NONE,
  /** Uniform between zero and the exponential delay. */
  FULL,
  /** Half the exponential delay, plus uniform up to the other half. */
  EQUAL,
  /**
   * Uniform between the initial delay and three times the previous delay, capped at the maximum.
   * Ignores the multiplier; depends on the previous delay rather than the retry number.
   */
  DECORRELATED
}
