package dev.fanout.aws;

/**
 * The AWS services {@link AwsClients} makes clients for, to name one in
 * {@link AwsClients.Builder#endpointOverride(AwsService, java.net.URI)} and in a
 * {@link AwsClients.Customizer}.
 */
public enum AwsService {
  /** Amazon EKS ({@code ListClusters}, {@code DescribeCluster}). */
  EKS("eks"),
  /** AWS STS ({@code AssumeRole}). */
  STS("sts"),
  /** The IAM Identity Center (SSO) portal ({@code ListAccounts}, {@code ListAccountRoles}, {@code GetRoleCredentials}). */
  SSO("sso"),
  /** AWS Organizations ({@code ListAccounts}). */
  ORGANIZATIONS("organizations"),
  /** Amazon SES v2 ({@code ListContacts}). */
  SES_V2("sesv2");

  private final String id;

  AwsService(String id) {
    this.id = id;
  }

  /** A short lower-case name: {@code eks}, {@code sts}, {@code sso}, {@code organizations}, {@code sesv2}. */
  public String id() {
    return id;
  }
}
