package dev.fanout.aws;

import java.util.Objects;

/**
 * What AWS throttles together: one service in one region for one account. Each scope has its own
 * rate gate (see {@link dev.fanout.rate.KeyedRateGates}), so a scan of many accounts and regions
 * runs at full speed overall while no single account's quota is pushed.
 *
 * <p>For calls whose account is not known in advance (Organizations or SSO ListAccounts made with
 * the caller's own credentials), {@code accountId} is {@link #CALLER}.
 *
 * @param accountId the 12-digit account the call counts against, or {@link #CALLER}
 * @param region the region, such as {@code eu-west-1}
 * @param service the service's short name, such as {@code eks}, {@code sts}, {@code sesv2}
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
