package dev.fanout.aws;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What went wrong for one account, or one account in one region.
 *
 * @param accountId the account
 * @param region the region, or {@code null} when the account failed as a whole (its credentials)
 * @param stage which step failed
 * @param error the error, one of:
 *     <ul>
 *       <li>{@link AwsCallException}: an API call failed for good (its cause is the last SDK
 *           error, or the retry budget's refusal); the usual case;
 *       <li>{@link AwsPaginationException}: a listing did not end (a repeated token, or more
 *           pages than the page cap);
 *       <li>{@link IllegalStateException} (stage {@code CREDENTIALS}, SSO only): the user has
 *           none of the SSO roles asked for, or several and none was named;
 *       <li>{@link java.util.concurrent.CancellationException}: the scan's deadline passed
 *           first, or the scan was interrupted;
 *       <li>{@link dev.fanout.TaskTimeoutException}: the task ran past its per-task timeout.
 *     </ul>
 *     Nothing else is expected; anything else (an {@link IllegalStateException} because the
 *     {@link AwsClients} were closed during the scan, say) is a bug or a misuse, and is reported
 *     here as it was thrown rather than lost.
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
