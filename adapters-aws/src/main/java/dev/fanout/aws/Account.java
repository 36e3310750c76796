package dev.fanout.aws;

import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * An AWS account to scan.
 *
 * @param id the 12-digit account id
 * @param name the account's name where the source knows it (Organizations, SSO), else {@code null}
 * @param email the account's root email where the source knows it, else {@code null}
 */
public record Account(String id, @Nullable String name, @Nullable String email) {
  private static final Pattern ACCOUNT_ID = Pattern.compile("\\d{12}");

  /** Checks that {@code id} is 12 digits. */
  public Account {
    requireAccountId("id", id);
  }

  /** An account known only by its id. */
  public static Account of(String id) {
    return new Account(id, null, null);
  }

  static String requireAccountId(String field, @Nullable String id) {
    Objects.requireNonNull(id, field + " must not be null");
    if (!ACCOUNT_ID.matcher(id).matches()) {
      throw new IllegalArgumentException(
          field + " must be a 12-digit AWS account id, was '" + id + "'");
    }
    return id;
  }
}
