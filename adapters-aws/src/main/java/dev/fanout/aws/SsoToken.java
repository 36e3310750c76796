package dev.fanout.aws;

import java.util.Objects;

/**
 * An IAM Identity Center (SSO) access token, as {@code aws sso login} leaves it in
 * {@code ~/.aws/sso/cache}: a bearer secret. It is kept out of every {@code toString}, log line
 * and exception message of this package; {@link #toString()} prints {@code SsoToken[redacted]}.
 */
public final class SsoToken {
  private final String value;

  private SsoToken(String value) {
    this.value = value;
  }

  /**
   * Wraps an access token.
   *
   * @throws IllegalArgumentException if it is blank (the message does not show it)
   */
  public static SsoToken of(String accessToken) {
    Objects.requireNonNull(accessToken, "accessToken must not be null");
    if (accessToken.isBlank()) {
      throw new IllegalArgumentException("accessToken must not be blank");
    }
    return new SsoToken(accessToken);
  }

  /** The token itself, for the SSO requests of this package only. */
  String reveal() {
    return value;
  }

  @Override
  public String toString() {
    return "SsoToken[redacted]";
  }
}
