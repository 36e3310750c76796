package dev.fanout.aws;

import java.util.Objects;

/**
 * One task of a scan: an account in a region.
 *
 * @param accountId the 12-digit account id
 * @param region the region
 */
public record AccountRegion(String accountId, String region) {
  /** Checks that neither part is null. */
  public AccountRegion {
    Objects.requireNonNull(accountId, "accountId must not be null");
    Objects.requireNonNull(region, "region must not be null");
  }

  /** {@code account/region}. */
  @Override
  public String toString() {
    return accountId + "/" + region;
  }
}
