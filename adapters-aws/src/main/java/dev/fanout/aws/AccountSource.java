package dev.fanout.aws;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Where the accounts of a scan come from:
 *
 * <ul>
 *   <li>{@link #organization()}: Organizations {@code ListAccounts} with the caller's credentials
 *       (the management account or a delegated administrator); only {@code ACTIVE} accounts;
 *   <li>{@link #sso(SsoToken, String)}: IAM Identity Center {@code ListAccounts} for the user of
 *       an SSO access token: the accounts that user may enter;
 *   <li>{@link #of(Collection)}: a given list.
 * </ul>
 *
 * {@snippet :
 * AccountSource source = AccountSource.of(List.of("111111111111", "222222222222"));
 * }
 */
public sealed interface AccountSource {

  /** Every {@code ACTIVE} account of the caller's organization. */
  static AccountSource organization() {
    return new Organization();
  }

  /**
   * The accounts assigned to the user of an SSO access token.
   *
   * @param token the access token
   * @param region the IAM Identity Center region, such as {@code eu-west-1}
   * @throws IllegalArgumentException if the region is unknown
   */
  static AccountSource sso(SsoToken token, String region) {
    return new Sso(token, region);
  }

  /**
   * The given account ids, scanned in this order.
   *
   * @throws IllegalArgumentException if the list is empty, an id is not 12 digits, or an id appears
   *     twice
   */
  static AccountSource of(Collection<String> accountIds) {
    Objects.requireNonNull(accountIds, "accountIds must not be null");
    List<Account> accounts = new ArrayList<>(accountIds.size());
    int index = 0;
    for (String id : accountIds) {
      accounts.add(new Account(Account.requireAccountId("accountIds[" + index + "]", id), null, null));
      index++;
    }
    return new Listed(accounts);
  }

  /** As {@link #of(Collection)}. */
  static AccountSource of(String... accountIds) {
    return of(List.of(accountIds));
  }

  /** Organizations {@code ListAccounts}; see {@link #organization()}. */
  record Organization() implements AccountSource {}

  /**
   * SSO {@code ListAccounts}; see {@link #sso(SsoToken, String)}.
   *
   * @param token the access token (its {@code toString} is redacted)
   * @param region the IAM Identity Center region
   */
  record Sso(SsoToken token, String region) implements AccountSource {
    /** Validates the region. */
    public Sso {
      Objects.requireNonNull(token, "token must not be null");
      Regions.requireKnown("region", region);
    }
  }

  /**
   * A given list; see {@link #of(Collection)}.
   *
   * @param accounts the accounts, not empty, ids distinct
   */
  record Listed(List<Account> accounts) implements AccountSource {
    /** Checks that the list is not empty and has no id twice. */
    public Listed {
      Objects.requireNonNull(accounts, "accounts must not be null");
      if (accounts.isEmpty()) {
        throw new IllegalArgumentException("accounts must not be empty: there is nothing to scan");
      }
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < accounts.size(); i++) {
        Account account = Objects.requireNonNull(accounts.get(i), "accounts[" + i + "] must not be null");
        if (!seen.add(account.id())) {
          throw new IllegalArgumentException(
              "accounts must be distinct, but " + account.id() + " appears twice (index " + i + ")");
        }
      }
      accounts = List.copyOf(accounts);
    }
  }
}
