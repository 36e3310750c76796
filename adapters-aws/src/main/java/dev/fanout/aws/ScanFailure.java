package dev.fanout.aws;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What went wrong for one account, or one account in one region.
 *
 * @param accountId the account
 * @param region the region, or {@code null} when the account failed as a whole (its credentials)
 * @param stage which step failed
 * @param error the error: usually an {@link AwsCallException}; a
 *     {@link java.util.concurrent.CancellationException} when the scan's deadline passed first, a
 *     {@link dev.fanout.TaskTimeoutException} when the task ran past its timeout
 */
public record ScanFailure(String accountId, @Nullable String region, Stage stage, Throwable error) {

  /** The step of a scan that failed. */
  public enum Stage {
    /** Getting the account's credentials (AssumeRole, or SSO ListAccountRoles and GetRoleCredentials). */
    CREDENTIALS,
    /** Listing or describing the clusters of the account in a region. */
    CLUSTERS
  }

  /** Checks the required fields. */
  public ScanFailure {
    Objects.requireNonNull(accountId, "accountId must not be null");
    Objects.requireNonNull(stage, "stage must not be null");
    Objects.requireNonNull(error, "error must not be null");
  }

  /** One line: {@code account 111111111111 region eu-west-1: <error>}. */
  public String message() {
    return "account " + accountId + (region == null ? "" : " region " + region) + ": "
        + AwsErrors.describe(error);
  }
}
