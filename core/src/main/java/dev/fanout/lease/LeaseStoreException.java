package dev.fanout.lease;

/**
 * The store behind a {@link ClaimLeaseRepository} failed: it could not be reached, a statement
 * failed, a connection broke. Whether the call took effect is unknown.
 *
 * <p>Most such failures are transient; {@link ClaimWorkers} logs them, backs off and tries again.
 * A failure the store says no retry can fix (bad data, a violated constraint, a statement the
 * schema does not fit) is {@linkplain #isTransient() not transient}: {@link ClaimWorkers} does not
 * retry it, but logs it as an error and leaves the item to its lease (the reaper returns it).
 */
public class LeaseStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Whether trying again may succeed. */
  private final boolean isTransient;

  /**
   * A transient failure.
   *
   * @param message what was being done, e.g. "claim on table credential"
   * @param cause the store's own exception
   */
  public LeaseStoreException(String message, Throwable cause) {
    this(message, cause, true);
  }

  /**
   * @param message what was being done, e.g. "claim on table credential"
   * @param cause the store's own exception
   * @param isTransient whether trying the call again may succeed
   */
  public LeaseStoreException(String message, Throwable cause, boolean isTransient) {
    super(message, cause);
    this.isTransient = isTransient;
  }

  /**
   * Whether trying the call again may succeed: {@code false} when the store refused it for a
   * reason a retry cannot change.
   */
  public boolean isTransient() {
    return isTransient;
  }
}
