package dev.fanout.aws;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Regressions of scans against real SDK clients and a WireMock AWS. */
class ScanRegressionTest {
  static final String A = FakeAws.account(1);

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
    return AccountScanner.builder(clients)
        .accounts(AccountSource.of(A))
        .credentials(AccountCredentials.assumeRole("OrganizationAccountAccessRole"))
        .regions("eu-west-1")
        .config(TestPolicies.CONFIG)
        .retryPolicy(TestPolicies.fast(2));
  }

  @Test
  void aClusterDeletedBetweenListAndDescribeIsSkippedAndCountedNotAFailure() throws Exception {
    aws.assumeRole(A);
    aws.eksClusters(A, "eu-west-1", List.of(List.of("api", "gone", "web")));
    aws.alwaysFail(
        aws.describeClusterRequest(A, "eu-west-1", "gone"),
        FakeAws.restJsonError(404, "ResourceNotFoundException", "No cluster found for name: gone."));

    ScanReport report = scanner().build().scan();

    assertThat(report.failures()).isEmpty();
    assertThat(report.clusters()).extracting(EksCluster::name).containsExactly("api", "web");
    assertThat(aws.count("DescribeCluster")).isEqualTo(3); // the 404 is not retried
    assertThat(report.deletedClusters()).containsExactly(EksCluster.named(A, "eu-west-1", "gone"));
    assertThat(report.accountRegionsScanned()).isEqualTo(1);
    assertThat(report.summary())
        .startsWith("2 clusters (1 deleted during the scan) in 1 accounts x 1 regions (1 of 1 account-regions scanned)");
  }

  /** EKS ListClusters of A in eu-west-1 answers a fresh next token forever. */
  void endlessClusterListing() {
    aws.assumeRole(A);
    aws.alwaysFail(
        FakeAws.signedBy(get(urlPathEqualTo("/clusters")), A, "eu-west-1", "eks"),
        aws.json("{\"clusters\":[\"c\"],\"nextToken\":\"t-{{randomValue length=24 type='ALPHANUMERIC'}}\"}")
            .withTransformers("response-template"));
  }

  @Test
  void aListingThatNeverEndsFailsAtTheConfiguredPageCapNamingListingAndCap() throws Exception {
    endlessClusterListing();

    ScanReport report = scanner().describeClusters(false).maxPages(25).build().scan();

    assertThat(report.failures()).hasSize(1);
    ScanFailure failure = report.failures().getFirst();
    assertThat(failure.stage()).isEqualTo(ScanFailure.Stage.CLUSTERS);
    AwsPaginationException error = (AwsPaginationException) failure.error();
    assertThat(error.reason()).isEqualTo(AwsPaginationException.Reason.TOO_MANY_PAGES);
    assertThat(error.listing()).isEqualTo("EKS ListClusters in " + A + "/eu-west-1");
    assertThat(error.pages()).isEqualTo(25);
    assertThat(error)
        .hasMessage(
            "EKS ListClusters in " + A + "/eu-west-1 returned more than 25 pages (the page cap,"
                + " maxPages): gave up after page 25");
    assertThat(aws.count("ListClusters")).isEqualTo(25);
    assertThat(report.clusters()).isEmpty(); // a truncated listing is not taken for a whole one
  }

  @Test
  void thePageCapMustBePositive() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> scanner().maxPages(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxPages must be at least 1, was 0");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> RecipientAggregator.builder(clients).maxPages(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxPages must be at least 1, was -1");
  }

  @Test
  void aListingThatNeverEndsFailsAtTheDefaultPageCapNotAtTheDeadline() throws Exception {
    endlessClusterListing();

    ScanReport report =
        scanner()
            .config(TestPolicies.CONFIG.toBuilder().timeout(Duration.ofSeconds(20)).build())
            .describeClusters(false)
            .build()
            .scan();

    assertThat(report.failures()).hasSize(1);
    assertThat(report.failures().getFirst().error())
        .isInstanceOf(AwsPaginationException.class)
        .hasMessageContaining("EKS ListClusters in " + A + "/eu-west-1")
        .hasMessageContaining("more than 1000 pages");
    assertThat(aws.count("ListClusters")).isEqualTo(1000);
  }
}
