package dev.fanout.aws;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One customer of a {@link CustomerMapping}: where its SES contact list lives and which role reads
 * it.
 *
 * @param code the customer's short code, such as {@code acme}: 1 to 64 of
 *     {@code [A-Za-z0-9_.-]}, starting with a letter or digit
 * @param roleArn the IAM role in the customer's account that may list its contacts
 * @param region the region of the customer's SES account
 * @param contactList the SES contact list's name
 */
public record Customer(String code, String roleArn, String region, String contactList) {
  private static final Pattern CODE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  private static final Pattern ROLE_ARN =
      Pattern.compile("arn:aws[a-z-]*:iam::(\\d{12}):role/[\\w+=,.@/-]{1,512}");
  private static final Pattern CONTACT_LIST = Pattern.compile("[\\w.-]{1,64}");

  /** Validates every field; messages name the customer, the field and the value. */
  public Customer {
    Objects.requireNonNull(code, "code must not be null");
    if (!CODE.matcher(code).matches()) {
      throw new IllegalArgumentException(
          "customer code must be 1 to 64 of [A-Za-z0-9_.-] starting with a letter or digit, was '"
              + code
              + "'");
    }
    String who = "customer '" + code + "': ";
    if (roleArn == null || !ROLE_ARN.matcher(roleArn).matches()) {
      throw new IllegalArgumentException(
          who
              + "roleArn must be an IAM role ARN like arn:aws:iam::123456789012:role/name, was "
              + quoted(roleArn));
    }
    if (region == null) {
      throw new IllegalArgumentException(who + "region must not be null");
    }
    try {
      Regions.requireKnown("region", region);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(who + e.getMessage(), e);
    }
    if (contactList == null || !CONTACT_LIST.matcher(contactList).matches()) {
      throw new IllegalArgumentException(
          who + "contactList must be an SES contact list name (1 to 64 of [A-Za-z0-9_.-]), was "
              + quoted(contactList));
    }
  }

  /** The customer's account: the one in its role ARN. */
  public String accountId() {
    Matcher m = ROLE_ARN.matcher(roleArn);
    if (!m.matches()) {
      throw new IllegalStateException("validated in the constructor");
    }
    return m.group(1);
  }

  private static String quoted(Object value) {
    return value == null ? "null" : "'" + value + "'";
  }
}
