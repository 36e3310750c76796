package dev.fanout.aws;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.RegionMetadata;

/**
 * How a scan gets credentials for each account:
 *
 * <ul>
 *   <li>{@link #assumeRole(String)}: STS {@code AssumeRole} of a role of that name in the account,
 *       with the caller's credentials (for example {@code OrganizationAccountAccessRole});
 *   <li>{@link #sso(SsoToken, String, String...)}: IAM Identity Center: the account's roles are
 *       listed ({@code ListAccountRoles}) and the first of the preferred role names the user has
 *       is used ({@code GetRoleCredentials});
 *   <li>{@link #caller()}: the caller's own credentials, for a single-account scan.
 * </ul>
 *
 * Temporary credentials are fetched once per account before its regions are scanned, through the
 * same rate gates and retry policy as every other call, and fetched again shortly before they
 * expire. They are never logged.
 */
public sealed interface AccountCredentials {

  /**
   * Assume the role {@code roleName} in each account, from {@code us-east-1}'s STS endpoint, as
   * session {@code fanout}, for one hour. Adjust with the record's {@code with...} methods.
   *
   * @throws IllegalArgumentException if the name is not a valid IAM role name (optionally with a
   *     path)
   */
  static AssumeRole assumeRole(String roleName) {
    return new AssumeRole(roleName, "fanout", null, "us-east-1", Duration.ofHours(1));
  }

  /**
   * Use IAM Identity Center role credentials: in each account, the first of {@code roleNames}
   * that the token's user is assigned; with no names, the account's only role (an account with
   * several roles then fails, naming them).
   *
   * @throws IllegalArgumentException if the region is unknown or a role name is blank
   */
  static Sso sso(SsoToken token, String region, String... roleNames) {
    return new Sso(token, region, List.of(roleNames));
  }

  /** The caller's own credentials for every account. */
  static Caller caller() {
    return new Caller();
  }

  /**
   * STS {@code AssumeRole} in each account.
   *
   * @param roleName the role's name, with its path if it has one ({@code path/name})
   * @param sessionName the role session name: 2 to 64 of {@code [\w+=,.@-]}
   * @param externalId the external id the role's trust policy asks for, or {@code null}
   * @param stsRegion the region whose STS endpoint is called
   * @param duration how long the credentials last: 15 min to 12 h
   */
  record AssumeRole(
      String roleName,
      String sessionName,
      @Nullable String externalId,
      String stsRegion,
      Duration duration)
      implements AccountCredentials {
    private static final Pattern ROLE_NAME = Pattern.compile("([\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}");
    private static final Pattern SESSION_NAME = Pattern.compile("[\\w+=,.@-]{2,64}");

    /** Validates every field. */
    public AssumeRole {
      Objects.requireNonNull(roleName, "roleName must not be null");
      if (!ROLE_NAME.matcher(roleName).matches()) {
        throw new IllegalArgumentException(
            "roleName must be an IAM role name such as OrganizationAccountAccessRole, was '"
                + roleName
                + "'");
      }
      Objects.requireNonNull(sessionName, "sessionName must not be null");
      if (!SESSION_NAME.matcher(sessionName).matches()) {
        throw new IllegalArgumentException(
            "sessionName must be 2 to 64 of [A-Za-z0-9_+=,.@-], was '" + sessionName + "'");
      }
      if (externalId != null && externalId.isBlank()) {
        throw new IllegalArgumentException("externalId must not be blank (null for none)");
      }
      Regions.requireKnown("stsRegion", stsRegion);
      Objects.requireNonNull(duration, "duration must not be null");
      if (duration.compareTo(Duration.ofMinutes(15)) < 0 || duration.compareTo(Duration.ofHours(12)) > 0) {
        throw new IllegalArgumentException(
            "duration must be between 15 minutes and 12 hours, was " + duration);
      }
    }

    /** A copy with another session name. */
    public AssumeRole withSessionName(String name) {
      return new AssumeRole(roleName, name, externalId, stsRegion, duration);
    }

    /** A copy with an external id (not logged, but not a secret either). */
    public AssumeRole withExternalId(@Nullable String id) {
      return new AssumeRole(roleName, sessionName, id, stsRegion, duration);
    }

    /** A copy calling another region's STS endpoint. */
    public AssumeRole withStsRegion(String region) {
      return new AssumeRole(roleName, sessionName, externalId, region, duration);
    }

    /** A copy asking for credentials that last {@code newDuration}. */
    public AssumeRole withDuration(Duration newDuration) {
      return new AssumeRole(roleName, sessionName, externalId, stsRegion, newDuration);
    }

    /** The role's ARN in {@code accountId}, in the partition of {@link #stsRegion()}. */
    public String roleArn(String accountId) {
      RegionMetadata metadata = Region.of(stsRegion).metadata();
      String partition = metadata == null ? "aws" : metadata.partition().id();
      return "arn:" + partition + ":iam::" + accountId + ":role/" + roleName;
    }
  }

  /**
   * IAM Identity Center role credentials.
   *
   * @param token the access token (its {@code toString} is redacted)
   * @param region the IAM Identity Center region
   * @param roleNames preferred role names, best first; empty for "the only role"
   */
  record Sso(SsoToken token, String region, List<String> roleNames) implements AccountCredentials {
    /** Validates the region and role names. */
    public Sso {
      Objects.requireNonNull(token, "token must not be null");
      Regions.requireKnown("region", region);
      Objects.requireNonNull(roleNames, "roleNames must not be null");
      for (int i = 0; i < roleNames.size(); i++) {
        String name = roleNames.get(i);
        if (name == null || name.isBlank()) {
          throw new IllegalArgumentException(
              "roleNames[" + i + "] must not be blank, was " + (name == null ? "null" : "'" + name + "'"));
        }
      }
      roleNames = List.copyOf(roleNames);
    }
  }

  /** The caller's own credentials. */
  record Caller() implements AccountCredentials {}
}
