package dev.fanout.aws;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryBudget;
import dev.fanout.retry.RetryBudgetExhaustedException;
import dev.fanout.retry.RetryPolicy;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.eks.model.EksException;

/**
 * Throttling storms in each service's own error shape. The policies here allow no normal retry
 * at all ({@code maxAttempts(1)}): a call that still succeeds after a storm proves that throttling
 * was retried in its own class without using up normal attempts.
 */
class ThrottlingTest {
  static final String A = FakeAws.account(1);
  static final String B = FakeAws.account(2);
  static final int STORM = 4;

  FakeAws aws;
  AwsClients clients;

  @BeforeEach
  void start() {
    aws = new FakeAws();
    clients = aws.clients();
  }

  @AfterEach
  void stop() {
    clients.close();
    aws.close();
  }

  /** No normal retry; 10 throttled retries 5 ms apart. */
  static RetryPolicy noNormalRetries() {
    return TestPolicies.fast(0);
  }

  AccountScanner.Builder scanner(RetryPolicy policy) {
    return AccountScanner.builder(clients)
        .credentials(AccountCredentials.assumeRole("OrganizationAccountAccessRole"))
        .regions("eu-west-1")
        .config(TestPolicies.CONFIG)
        .retryPolicy(policy);
  }

  @Test
  void organizationsListAccountsStormIsRiddenOut() throws Exception {
    aws.organizationAccounts(List.of(List.of(A), List.of(B)));
    aws.failThenSucceed(
        () -> aws.listAccountsRequest("orgs-1"),
        FakeAws.organizationsThrottle(),
        STORM,
        aws.ok("application/x-amz-json-1.1", "{\"Accounts\":[{\"Id\":\"" + B + "\",\"Status\":\"ACTIVE\"}]}"));
    for (String account : List.of(A, B)) {
      aws.assumeRole(account);
      aws.eksClusters(account, "eu-west-1", List.of(List.of()));
    }

    ScanReport report = scanner(noNormalRetries()).accounts(AccountSource.organization()).build().scan();

    assertThat(report.failures()).isEmpty();
    assertThat(report.accounts()).extracting(Account::id).containsExactly(A, B);
    assertThat(aws.count("ListAccounts")).isEqualTo(1 + STORM + 1);
    assertThat(report.stats().throttles()).isEqualTo(STORM);
  }

  @Test
  void stsAssumeRoleStormIsRiddenOut() throws Exception {
    aws.failThenSucceed(() -> aws.assumeRoleRequest(A), FakeAws.stsThrottle(), STORM, aws.assumeRoleOk(A));
    aws.eksClusters(A, "eu-west-1", List.of(List.of("c")));

    ScanReport report = scanner(noNormalRetries()).accounts(AccountSource.of(A)).build().scan();

    assertThat(report.failures()).isEmpty();
    assertThat(report.clusters()).hasSize(1);
    assertThat(aws.count("AssumeRole")).isEqualTo(STORM + 1);
    assertThat(report.stats()).isEqualTo(new CallStats(3, 3 + STORM, STORM));
  }

  @Test
  void eksStormsOnListAndDescribeAreRiddenOut() throws Exception {
    aws.assumeRole(A);
    aws.eksClusters(A, "eu-west-1", List.of(List.of("a"), List.of("b")));
    aws.failThenSucceed(
        () -> aws.listClustersRequest(A, "eu-west-1", FakeAws.tokenOf(A, "eu-west-1", 1)),
        FakeAws.eksThrottle(),
        STORM,
        aws.json("{\"clusters\":[\"b\"]}"));
    aws.failThenSucceed(
        () -> aws.describeClusterRequest(A, "eu-west-1", "a"),
        FakeAws.eksThrottle(),
        STORM,
        aws.json(FakeAws.describeBody(A, "eu-west-1", "a")));

    ScanReport report = scanner(noNormalRetries()).accounts(AccountSource.of(A)).build().scan();

    assertThat(report.failures()).isEmpty();
    assertThat(report.clusters()).extracting(EksCluster::name).containsExactly("a", "b");
    assertThat(aws.count("ListClusters")).isEqualTo(2 + STORM);
    assertThat(aws.count("DescribeCluster")).isEqualTo(2 + STORM);
    assertThat(report.stats().throttles()).isEqualTo(2 * STORM);
  }

  @Test
  void ssoStormsOnEveryCallAreRiddenOut() throws Exception {
    SsoToken token = SsoToken.of(FakeAws.SSO_TOKEN);
    aws.ssoAccounts(List.of(List.of(A)));
    aws.ssoRoles(A, List.of(List.of("ReadOnly")));
    aws.ssoCredentials(A, "ReadOnly");
    aws.failThenSucceed(
        () -> aws.ssoListAccountsRequest(null),
        FakeAws.ssoThrottle(),
        STORM,
        aws.json("{\"accountList\":[{\"accountId\":\"" + A + "\"}]}"));
    aws.failThenSucceed(
        () -> aws.ssoListRolesRequest(A, null),
        FakeAws.ssoThrottle(),
        STORM,
        aws.json("{\"roleList\":[{\"roleName\":\"ReadOnly\",\"accountId\":\"" + A + "\"}]}"));
    aws.failThenSucceed(
        () -> aws.ssoCredentialsRequest(A, "ReadOnly"), FakeAws.ssoThrottle(), STORM, aws.ssoCredentialsOk(A));
    aws.eksClusters(A, "eu-west-1", List.of(List.of()));

    ScanReport report =
        scanner(noNormalRetries())
            .accounts(AccountSource.sso(token, "eu-west-1"))
            .credentials(AccountCredentials.sso(token, "eu-west-1", "ReadOnly"))
            .build()
            .scan();

    assertThat(report.failures()).isEmpty();
    assertThat(aws.count("SsoListAccounts")).isEqualTo(1 + STORM);
    assertThat(aws.count("ListAccountRoles")).isEqualTo(1 + STORM);
    assertThat(aws.count("GetRoleCredentials")).isEqualTo(1 + STORM);
    assertThat(report.stats().throttles()).isEqualTo(3 * STORM);
  }

  @Test
  void sesListContactsStormIsRiddenOut() throws Exception {
    Customer acme = new Customer("acme", "arn:aws:iam::" + A + ":role/ses-reader", "us-east-1", "main");
    aws.assumeRole(A);
    aws.sesContacts(A, "us-east-1", "main", List.of(List.of("a@example.com"), List.of("b@example.com")));
    aws.failThenSucceed(
        () -> aws.listContactsRequest(A, "us-east-1", "main", "ses-" + A + "-1"),
        FakeAws.sesThrottle(),
        STORM,
        aws.json("{\"Contacts\":[{\"EmailAddress\":\"b@example.com\"}]}"));

    RecipientReport report =
        RecipientAggregator.builder(clients)
            .customers(CustomerMapping.of(acme))
            .config(TestPolicies.CONFIG)
            .retryPolicy(noNormalRetries())
            .build()
            .aggregate("aws-calendar");

    assertThat(report.recipients()).containsExactly("a@example.com", "b@example.com");
    assertThat(aws.count("ListContacts")).isEqualTo(2 + STORM);
    assertThat(report.stats().throttles()).isEqualTo(STORM);
  }

  @Test
  void aStormLongerThanTheThrottlingCapFailsThatCallClearly() throws Exception {
    aws.assumeRole(A);
    aws.alwaysFail(aws.listClustersRequest(A, "eu-west-1", null), FakeAws.eksThrottle());
    RetryPolicy policy = noNormalRetries().toBuilder().maxThrottles(3).build();

    ScanReport report = scanner(policy).accounts(AccountSource.of(A)).build().scan();

    AwsCallException error = (AwsCallException) report.failures().getFirst().error();
    assertThat(error.reason()).isEqualTo(Outcome.Reason.THROTTLES_EXHAUSTED);
    assertThat(error.attempts()).isEqualTo(4);
    assertThat(error.throttles()).isEqualTo(4);
    assertThat(error.getCause()).isInstanceOf(AwsThrottledException.class);
    assertThat(error.getCause().getCause()).isInstanceOf(EksException.class);
    assertThat(error.getMessage())
        .startsWith(
            "eks ListClusters failed in " + A + "/eu-west-1/eks after 4 attempts (4 throttled), "
                + "still throttled after the throttling cap: AwsThrottledException: eks ListClusters throttled in "
                + A + "/eu-west-1/eks: ThrottlingException: Rate exceeded (Service: Eks, Status Code: 429");
    assertThat(aws.count("ListClusters")).isEqualTo(4);
  }

  @Test
  void aSpentRetryBudgetIsReportedAsSuch() throws Exception {
    aws.assumeRole(A);
    aws.alwaysFail(aws.listClustersRequest(A, "eu-west-1", null), FakeAws.eksThrottle());
    RetryBudget budget = RetryBudget.builder().name("tiny").capacity(10).retryCost(5).build();
    RetryPolicy policy = noNormalRetries().toBuilder().budget(budget).build();

    ScanReport report = scanner(policy).accounts(AccountSource.of(A)).build().scan();

    ScanFailure failure = report.failures().getFirst();
    AwsCallException error = (AwsCallException) failure.error();
    assertThat(error.reason()).isEqualTo(Outcome.Reason.BUDGET_EXHAUSTED);
    assertThat(error.getCause()).isInstanceOf(RetryBudgetExhaustedException.class);
    // Two retries fit in the budget (10 tokens, 5 each); the third throttled attempt is the last.
    assertThat(error.attempts()).isEqualTo(3);
    assertThat(aws.count("ListClusters")).isEqualTo(3);
    assertThat(failure.message())
        .contains("retry budget exhausted: RetryBudgetExhaustedException: retry budget 'tiny' is spent (0 of 10 tokens left, a retry costs 5): not retrying after attempt 3");
  }

  @Test
  void aRetryAfterHeaderIsWaitedFor() throws Exception {
    aws.assumeRole(A);
    ResponseDefinitionBuilder hinted = FakeAws.eksThrottle().withHeader("Retry-After", "1");
    aws.failThenSucceed(
        () -> aws.listClustersRequest(A, "eu-west-1", null), hinted, 1, aws.json("{\"clusters\":[]}"));
    RetryPolicy policy = noNormalRetries().toBuilder().throttleBackoff(Backoff.none()).build();

    ScanReport report = scanner(policy).accounts(AccountSource.of(A)).build().scan();

    assertThat(report.failures()).isEmpty();
    List<FakeAws.Seen> lists =
        aws.seen().stream().filter(s -> s.operation().equals("ListClusters")).toList();
    assertThat(lists).hasSize(2);
    assertThat(Duration.between(lists.get(0).at(), lists.get(1).at())).isGreaterThanOrEqualTo(Duration.ofMillis(950));
  }
}
