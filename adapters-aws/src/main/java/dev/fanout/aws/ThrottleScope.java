package dev.fanout.aws;

import java.util.Objects;

/**
 * What AWS throttles together: one service in one region for one account. Each scope has its own
 * rate gate (see {@link dev.fanout.rate.KeyedRateGates}), so a scan of many accounts and regions
 * runs at full speed overall while no single account's quota is pushed.
 *
 * <p>The account is the one the call counts against, which is not always the one it is about:
 * STS {@code AssumeRole} into a customer's account counts against the caller's account, and so do
 * Organizations calls and the SSO portal's calls (which count a user's calls). For those, whose
 * account id is usually not known, {@code accountId} is {@link #CALLER}.
 *
 * @param accountId the 12-digit account the call counts against, or {@link #CALLER}
 * @param region the region, such as {@code eu-west-1}
 * @param service the service's signing name: {@code eks}, {@code sts}, {@code ses},
 *     {@code organizations}, {@code sso}
 */
public record ThrottleScope(String accountId, String region, String service) {

  /** The account of the caller's own credentials, when its id is not known. */
  public static final String CALLER = "caller";

  /** Checks that no part is blank. */
  public ThrottleScope {
    requireText("accountId", accountId);
    requireText("region", region);
    requireText("service", service);
  }

  private static void requireText(String field, String value) {
    Objects.requireNonNull(value, field + " must not be null");
    if (value.isBlank()) {
      throw new IllegalArgumentException(field + " must not be blank, was '" + value + "'");
    }
  }

  /** {@code account/region/service}, as used in logs and messages. */
  @Override
  public String toString() {
    return accountId + "/" + region + "/" + service;
  }
}
