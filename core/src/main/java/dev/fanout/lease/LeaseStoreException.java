package dev.fanout.lease;

/**
 * The store behind a {@link ClaimLeaseRepository} failed: it could not be reached, a statement
 * failed, a connection broke. Whether the call took effect is unknown. Such failures are
 * usually transient; {@link ClaimWorkers} logs them, backs off and tries again.
 */
public class LeaseStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what was being done, e.g. "claim on table credential"
   * @param cause the store's own exception
   */
  public LeaseStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
