package dev.fanout.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.ParallelConfig;
import dev.fanout.Progress;
import dev.fanout.retry.Outcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sts.model.StsException;

/** Scans against real SDK clients and a WireMock AWS: pagination, per-account and per-region isolation. */
class AccountScannerTest {
  static final String A = FakeAws.account(1);
  static final String B = FakeAws.account(2);
  static final String C = FakeAws.account(3);
  static final String D = FakeAws.account(4);
  static final List<String> REGIONS = List.of("eu-west-1", "us-east-1");

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

  AccountScanner.Builder scanner() {
    return scanner(clients);
  }

  AccountScanner.Builder scanner(AwsClients clients) {
    return AccountScanner.builder(clients)
        .credentials(AccountCredentials.assumeRole("OrganizationAccountAccessRole"))
        .regions(REGIONS)
        .config(TestPolicies.CONFIG)
        .retryPolicy(TestPolicies.fast(2));
  }

  @Test
  void scansEveryAccountAndRegionAcrossPagesOfAccountsAndClusters() throws Exception {
    aws.organizationAccounts(List.of(List.of(A, B), List.of(C), List.of(D)));
    for (String account : List.of(A, B, C, D)) {
      aws.assumeRole(account);
      aws.eksClusters(account, "eu-west-1", List.of(List.of("web-" + account, "api"), List.of("batch"), List.of("ml")));
      aws.eksClusters(account, "us-east-1", List.of(List.of()));
    }

    List<Progress> progress = new CopyOnWriteArrayList<>();
    ScanReport report = scanner().accounts(AccountSource.organization()).build().scan(progress::add);

    assertThat(report.accounts()).extracting(Account::id).containsExactly(A, B, C, D);
    assertThat(report.accounts().getFirst().name()).isEqualTo("acct-" + A);
    assertThat(report.failures()).isEmpty();
    assertThat(report.clusters()).hasSize(16);
    assertThat(report.clustersByAccount().get(B))
        .extracting(EksCluster::name)
        .containsExactly("api", "batch", "ml", "web-" + B);
    EksCluster web = report.clusters().stream().filter(c -> c.name().equals("web-" + A)).findFirst().orElseThrow();
    assertThat(web.arn()).isEqualTo("arn:aws:eks:eu-west-1:" + A + ":cluster/web-" + A);
    assertThat(web.endpoint()).isEqualTo(FakeAws.endpointOf(A, "eu-west-1", "web-" + A));
    assertThat(web.certificateAuthorityData()).isEqualTo(FakeAws.caOf("web-" + A));
    assertThat(web.version()).isEqualTo("1.31");
    assertThat(web.status()).isEqualTo("ACTIVE");
    assertThat(report.succeeded()).isEqualTo(4);
    assertThat(report.summary())
        .startsWith("16 clusters in 4 accounts x 2 regions (8 of 8 account-regions scanned): 4 successful, 0 errors in ");

    // Exact wire counts: 3 Organizations pages; 1 AssumeRole per account; per account 3 + 1
    // ListClusters pages and 4 DescribeCluster.
    assertThat(aws.count("ListAccounts")).isEqualTo(3);
    assertThat(aws.count("AssumeRole")).isEqualTo(4);
    assertThat(aws.count("ListClusters")).isEqualTo(16);
    assertThat(aws.count("DescribeCluster")).isEqualTo(16);
    assertThat(report.stats()).isEqualTo(new CallStats(3 + 4 + 16 + 16, 3 + 4 + 16 + 16, 0));
    // Every EKS request was signed with its account's assumed-role credentials, in its region.
    assertThat(aws.seen())
        .filteredOn(s -> s.scope().service().equals("eks"))
        .allSatisfy(s -> assertThat(s.scope().accountId()).isIn(A, B, C, D));

    // Progress: 4 accounts' credentials, then 8 account-regions.
    assertThat(progress).hasSize(12);
    assertThat(progress.get(3).isComplete()).isTrue();
    assertThat(progress.getLast().done()).isEqualTo(8);
    assertThat(progress.getLast().total()).isEqualTo(8);
  }

  @Test
  void anAccountWhoseRoleCannotBeAssumedFailsAloneAndIsNotScanned() throws Exception {
    aws.assumeRole(A);
    aws.assumeRoleDenied(B);
    aws.assumeRole(C);
    for (String account : List.of(A, C)) {
      for (String region : REGIONS) {
        aws.eksClusters(account, region, List.of(List.of("main")));
      }
    }

    ScanReport report = scanner().accounts(AccountSource.of(A, B, C)).build().scan();

    assertThat(report.succeeded()).isEqualTo(2);
    assertThat(report.failed()).isEqualTo(1);
    assertThat(report.failedAccounts()).containsExactly(B);
    ScanFailure failure = report.failures().getFirst();
    assertThat(failure.stage()).isEqualTo(ScanFailure.Stage.CREDENTIALS);
    assertThat(failure.region()).isNull();
    AwsCallException call = (AwsCallException) failure.error();
    assertThat(call.reason()).isEqualTo(Outcome.Reason.NOT_RETRYABLE);
    assertThat(call.attempts()).isEqualTo(1); // access denied is not retried
    assertThat(call.getCause()).isInstanceOf(StsException.class);
    assertThat(failure.message())
        .startsWith("account " + B + ": AwsCallException: sts AssumeRole failed in caller/us-east-1/sts after 1 attempt, not retryable: StsException: User is not authorized");
    assertThat(report.clusters()).hasSize(4);
    assertThat(aws.count("ListClusters", B)).isZero();
    assertThat(report.summary())
        .startsWith("4 clusters in 3 accounts x 2 regions (4 of 6 account-regions scanned): 2 successful, 1 errors in ");
  }

  @Test
  void serverErrorsResetsAndSlowResponsesFailOnlyTheirAccountRegion() throws Exception {
    for (String account : List.of(A, B, C, D)) {
      aws.assumeRole(account);
      for (String region : REGIONS) {
        aws.eksClusters(account, region, List.of(List.of("c1"), List.of("c2")));
      }
    }
    // A/eu-west-1: its second page always answers 500; B/us-east-1: DescribeCluster resets the
    // connection; C/eu-west-1: ListClusters answers long after the read timeout.
    aws.alwaysFail(aws.listClustersRequest(A, "eu-west-1", FakeAws.tokenOf(A, "eu-west-1", 1)), FakeAws.serverError());
    aws.alwaysFail(aws.describeClusterRequest(B, "us-east-1", "c2"), FakeAws.connectionReset());
    aws.alwaysFail(
        aws.listClustersRequest(C, "eu-west-1", null),
        aws.json("{\"clusters\":[]}").withFixedDelay(FakeAws.TOO_LATE_MS));

    ScanReport report;
    try (AwsClients impatient = aws.clients(FakeAws.SHORT_READ_TIMEOUT)) {
      report = scanner(impatient).accounts(AccountSource.of(A, B, C, D)).build().scan();
    }

    assertThat(report.failures())
        .extracting(f -> f.accountId() + "/" + f.region())
        .containsExactly(A + "/eu-west-1", B + "/us-east-1", C + "/eu-west-1");
    assertThat(report.failures()).allSatisfy(f -> assertThat(f.stage()).isEqualTo(ScanFailure.Stage.CLUSTERS));
    AwsCallException serverError = (AwsCallException) report.failures().get(0).error();
    assertThat(serverError.operation()).isEqualTo("ListClusters");
    assertThat(serverError.reason()).isEqualTo(Outcome.Reason.ATTEMPTS_EXHAUSTED);
    assertThat(serverError.attempts()).isEqualTo(3);
    assertThat(serverError.getMessage()).contains("Status Code: 500");
    AwsCallException reset = (AwsCallException) report.failures().get(1).error();
    assertThat(reset.operation()).isEqualTo("DescribeCluster");
    assertThat(reset.attempts()).isEqualTo(3);
    assertThat(reset.getMessage()).containsIgnoringCase("connection reset");
    AwsCallException slow = (AwsCallException) report.failures().get(2).error();
    assertThat(slow.attempts()).isEqualTo(3);
    assertThat(slow.getMessage()).containsIgnoringCase("timed out");
    // Every other account-region found both its clusters.
    assertThat(report.clusters()).hasSize(2 * 5);
    assertThat(report.accountRegionsScanned()).isEqualTo(5);
    assertThat(report.succeeded()).isEqualTo(1);
    // Exactly three attempts for each failing call: no hidden retries in the SDK or HTTP client.
    assertThat(aws.count("DescribeCluster", B)).isEqualTo(2 + 1 + 3); // eu c1 c2, us c1, us c2 x3
    assertThat(aws.count("ListClusters", A)).isEqualTo(1 + 3 + 2); // eu page 1, page 2 x3; us 2 pages
  }

  @Test
  void describeCanBeSwitchedOff() throws Exception {
    aws.assumeRole(A);
    aws.eksClusters(A, "eu-west-1", List.of(List.of("x", "y")));
    ScanReport report =
        scanner().regions("eu-west-1").accounts(AccountSource.of(A)).describeClusters(false).build().scan();
    assertThat(report.clusters()).containsExactly(EksCluster.named(A, "eu-west-1", "x"), EksCluster.named(A, "eu-west-1", "y"));
    assertThat(aws.count("DescribeCluster")).isZero();
  }

  @Test
  void theAccountFilterAndCallerCredentialsAreHonoured() throws Exception {
    aws.organizationAccounts(List.of(List.of(A, B)));
    aws.stub(FakeAws.signedBy(com.github.tomakehurst.wiremock.client.WireMock.get(
        com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo("/clusters")), null, "eu-west-1", "eks"),
        aws.json("{\"clusters\":[\"mine\"]}"));
    ScanReport report =
        scanner()
            .regions("eu-west-1")
            .accounts(AccountSource.organization())
            .accountFilter(a -> a.id().equals(B))
            .credentials(AccountCredentials.caller())
            .describeClusters(false)
            .build()
            .scan();
    assertThat(report.accounts()).extracting(Account::id).containsExactly(B);
    assertThat(report.clusters()).extracting(EksCluster::name).containsExactly("mine");
    assertThat(aws.count("AssumeRole")).isZero();
  }

  @Test
  void theDeadlineCancelsWhatIsLeftAndReportsIt() throws Exception {
    aws.assumeRole(A);
    aws.eksClusters(A, "us-east-1", List.of(List.of()));
    // A first scan loads the SDK's classes, which would otherwise take part of the deadline.
    scanner().regions("us-east-1").accounts(AccountSource.of(A)).build().scan();
    // The answer comes before the clients' read timeout but long after the scan's deadline.
    aws.alwaysFail(
        aws.listClustersRequest(A, "eu-west-1", null),
        aws.json("{\"clusters\":[]}").withFixedDelay(FakeAws.TOO_LATE_MS));
    ScanReport report =
        scanner()
            .accounts(AccountSource.of(A))
            .config(TestPolicies.CONFIG.toBuilder().timeout(Duration.ofSeconds(2)).build())
            .retryPolicy(TestPolicies.fast(0))
            .build()
            .scan();
    assertThat(report.failures()).hasSize(1);
    assertThat(report.failures().getFirst().region()).isEqualTo("eu-west-1");
    assertThat(report.failures().getFirst().error())
        .isInstanceOf(java.util.concurrent.CancellationException.class);
    // A scan that waited for the answer would take all of its delay.
    assertThat(report.elapsed()).isLessThan(Duration.ofMillis(FakeAws.TOO_LATE_MS - 1_000));
  }

  @Test
  void theDefaultConfigIsTheOriginalCli() {
    AccountScanner scanner =
        AccountScanner.builder(clients)
            .accounts(AccountSource.of(A))
            .credentials(AccountCredentials.caller())
            .regions("eu-west-1")
            .build();
    assertThat(scanner.config()).isEqualTo(ParallelConfig.defaults());
  }

  @Test
  void metersAreFanoutMetersAndOnlyWithARegistry() throws Exception {
    aws.assumeRole(A);
    aws.eksClusters(A, "eu-west-1", List.of(List.of("x")));
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    AccountScanner.builder(clients)
        .accounts(AccountSource.of(A))
        .credentials(AccountCredentials.assumeRole("r"))
        .regions("eu-west-1")
        .config(TestPolicies.CONFIG)
        .meterRegistry(registry)
        .build()
        .scan();
    assertThat(registry.getMeters()).isNotEmpty();
    assertThat(registry.getMeters()).allSatisfy(m -> assertThat(m.getId().getName()).startsWith("fanout."));
    assertThat(registry.find("fanout.retry.calls").counters()).isNotEmpty();
    assertThat(registry.find("fanout.rate.keyed.gates").gauge()).isNotNull();
  }
}
