package dev.fanout.aws;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.fanout.retry.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every AWS call the adapter makes, times every fault a service or the network can answer with,
 * once: the first request of the call gets the fault, the rest are answered as usual. The real
 * SDK clients against WireMock, in each service's wire format.
 *
 * <p>Promised: a 409 is not retried (one request; the call fails as an {@link AwsCallException},
 * {@code NOT_RETRYABLE}, failing what it was for: the scan for account listings, the account for
 * credentials, the account-region for EKS, the customer for SES). Every other fault is retried
 * once and the call succeeds: 429 in the throttling class (not a normal attempt), waiting at least
 * its {@code Retry-After}; 500, 503, a reset connection, an empty response and an answer slower
 * than the read timeout as normal retries. Exactly two requests reach the server: the SDK adds
 * none.
 */
class FaultMatrixTest {
  static final String A = FakeAws.account(1);
  static final String SES_ACCOUNT = "111111111111";
  static final Duration SLOW_READ_TIMEOUT = Duration.ofSeconds(1);
  static final int SLOW_DELAY_MS = 2_500;

  static FakeAws aws;

  @BeforeAll
  static void startAws() {
    aws = new FakeAws();
  }

  @AfterAll
  static void stopAws() {
    aws.close();
  }

  @BeforeEach
  void reset() {
    aws.server.resetAll();
  }

  /** How a service writes an error response. */
  enum Format {
    STS_XML,
    JSON_1_1,
    REST_JSON
  }

  /** The calls, each with the request that gets the fault. */
  enum Call {
    STS_ASSUME_ROLE("AssumeRole", Format.STS_XML, () -> aws.assumeRoleRequest(A)),
    ORGANIZATIONS_LIST_ACCOUNTS("ListAccounts", Format.JSON_1_1, () -> aws.listAccountsRequest(null)),
    SSO_LIST_ACCOUNTS("SsoListAccounts", Format.REST_JSON, () -> aws.ssoListAccountsRequest(null)),
    SSO_LIST_ACCOUNT_ROLES("ListAccountRoles", Format.REST_JSON, () -> aws.ssoListRolesRequest(A, null)),
    SSO_GET_ROLE_CREDENTIALS(
        "GetRoleCredentials", Format.REST_JSON, () -> aws.ssoCredentialsRequest(A, "ReadOnly")),
    EKS_LIST_CLUSTERS(
        "ListClusters", Format.REST_JSON, () -> aws.listClustersRequest(A, "eu-west-1", null)),
    EKS_DESCRIBE_CLUSTER(
        "DescribeCluster", Format.REST_JSON, () -> aws.describeClusterRequest(A, "eu-west-1", "c1")),
    SES_LIST_CONTACTS(
        "ListContacts",
        Format.REST_JSON,
        () -> aws.listContactsRequest(SES_ACCOUNT, "us-east-1", "main", null));

    final String operation;
    final Format format;
    final java.util.function.Supplier<MappingBuilder> request;

    Call(String operation, Format format, java.util.function.Supplier<MappingBuilder> request) {
      this.operation = operation;
      this.format = format;
      this.request = request;
    }

    /** Whether its failure fails the whole scan (the accounts cannot be listed). */
    boolean listsAccounts() {
      return this == ORGANIZATIONS_LIST_ACCOUNTS || this == SSO_LIST_ACCOUNTS;
    }
  }

  /** The faults, each as a response in a service's format. */
  enum FaultKind {
    CONFLICT_409(f -> error(f, 409, "ConflictException")),
    THROTTLED_429_RETRY_AFTER(f -> error(f, 429, "TooManyRequestsException").withHeader("Retry-After", "1")),
    THROTTLED_429(f -> error(f, 429, "TooManyRequestsException")),
    SERVER_ERROR_500(f -> error(f, 500, "InternalFailure")),
    UNAVAILABLE_503(f -> error(f, 503, "ServiceUnavailableException")),
    CONNECTION_RESET(f -> aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)),
    EMPTY_RESPONSE(f -> aResponse().withFault(Fault.EMPTY_RESPONSE)),
    SLOWER_THAN_READ_TIMEOUT(
        f -> aResponse().withStatus(200).withBody("{}").withFixedDelay(SLOW_DELAY_MS));

    final Function<Format, ResponseDefinitionBuilder> response;

    FaultKind(Function<Format, ResponseDefinitionBuilder> response) {
      this.response = response;
    }

    boolean throttles() {
      return this == THROTTLED_429 || this == THROTTLED_429_RETRY_AFTER;
    }
  }

  static ResponseDefinitionBuilder error(Format format, int status, String code) {
    return switch (format) {
      case STS_XML -> FakeAws.stsError(status, code, "injected " + status);
      case JSON_1_1 ->
          aResponse()
              .withStatus(status)
              .withHeader("Content-Type", "application/x-amz-json-1.1")
              .withBody("{\"__type\":\"" + code + "\",\"Message\":\"injected " + status + "\"}");
      case REST_JSON -> FakeAws.restJsonError(status, code, "injected " + status);
    };
  }

  static Stream<Arguments> matrix() {
    List<Arguments> all = new ArrayList<>();
    for (Call call : Call.values()) {
      for (FaultKind fault : FaultKind.values()) {
        all.add(Arguments.of(call, fault));
      }
    }
    return all.stream();
  }

  /** What a run of the call's scenario ended with. */
  record Ran(CallStats stats, List<Throwable> errors, List<String> found) {}

  @ParameterizedTest(name = "{0} x {1}")
  @MethodSource("matrix")
  void eachCallUnderEachFault(Call call, FaultKind fault) throws Exception {
    stubHealthyAws();
    aws.server.stubFor(
        call.request.get()
            .atPriority(1)
            .inScenario("fault")
            .whenScenarioStateIs(Scenario.STARTED)
            .willSetStateTo("answered")
            .willReturn(fault.response.apply(call.format)));
    Duration readTimeout =
        fault == FaultKind.SLOWER_THAN_READ_TIMEOUT ? SLOW_READ_TIMEOUT : FakeAws.READ_TIMEOUT;

    try (AwsClients clients = aws.clients(readTimeout)) {
      if (fault == FaultKind.CONFLICT_409) {
        AwsCallException failed;
        if (call.listsAccounts()) {
          failed =
              (AwsCallException)
                  catchThrowable(() -> run(call, clients));
          assertThat(failed).isNotNull();
        } else {
          Ran ran = run(call, clients);
          assertThat(ran.errors()).hasSize(1);
          failed = (AwsCallException) ran.errors().getFirst();
        }
        assertThat(failed.reason()).isEqualTo(Outcome.Reason.NOT_RETRYABLE);
        assertThat(failed.attempts()).isEqualTo(1);
        assertThat(failed.getMessage()).contains("Status Code: 409");
        assertThat(aws.count(call.operation)).isEqualTo(1);
        return;
      }
      Ran ran = run(call, clients);
      assertThat(ran.errors()).isEmpty();
      assertThat(ran.found()).isNotEmpty();
      assertThat(aws.count(call.operation)).as("requests of %s", call.operation).isEqualTo(2);
      assertThat(ran.stats().throttles()).isEqualTo(fault.throttles() ? 1 : 0);
      assertThat(ran.stats().attempts() - ran.stats().calls()).isEqualTo(1);
      if (fault == FaultKind.THROTTLED_429_RETRY_AFTER) {
        List<FakeAws.Seen> requests =
            aws.seen().stream().filter(s -> s.operation().equals(call.operation)).toList();
        assertThat(Duration.between(requests.get(0).at(), requests.get(1).at()))
            .isGreaterThanOrEqualTo(Duration.ofMillis(990));
      }
    }
  }

  /** Every call answers as it should. */
  static void stubHealthyAws() {
    aws.assumeRole(A);
    aws.organizationAccounts(List.of(List.of(A)));
    aws.ssoAccounts(List.of(List.of(A)));
    aws.ssoRoles(A, List.of(List.of("ReadOnly")));
    aws.ssoCredentials(A, "ReadOnly");
    aws.eksClusters(A, "eu-west-1", List.of(List.of("c1")));
    aws.assumeRole(SES_ACCOUNT);
    aws.sesContacts(SES_ACCOUNT, "us-east-1", "main", List.of(List.of("a@example.com")));
  }

  static Ran run(Call call, AwsClients clients) throws Exception {
    if (call == Call.SES_LIST_CONTACTS) {
      RecipientReport report =
          RecipientAggregator.builder(clients)
              .customers(
                  CustomerMapping.of(
                      new Customer("acme", "arn:aws:iam::" + SES_ACCOUNT + ":role/ses-reader", "us-east-1", "main")))
              .config(TestPolicies.CONFIG)
              .retryPolicy(TestPolicies.fast(2))
              .build()
              .aggregate("aws-calendar");
      return new Ran(
          report.stats(),
          report.customers().stream().map(CustomerRecipients::error).filter(e -> e != null).toList(),
          report.recipients());
    }
    AccountSource source =
        switch (call) {
          case ORGANIZATIONS_LIST_ACCOUNTS -> AccountSource.organization();
          case SSO_LIST_ACCOUNTS -> AccountSource.sso(SsoToken.of(FakeAws.SSO_TOKEN), "eu-west-1");
          default -> AccountSource.of(A);
        };
    AccountCredentials credentials =
        call == Call.SSO_LIST_ACCOUNT_ROLES || call == Call.SSO_GET_ROLE_CREDENTIALS
            ? AccountCredentials.sso(SsoToken.of(FakeAws.SSO_TOKEN), "eu-west-1", "ReadOnly")
            : AccountCredentials.assumeRole("OrganizationAccountAccessRole");
    ScanReport report =
        AccountScanner.builder(clients)
            .accounts(source)
            .credentials(credentials)
            .regions("eu-west-1")
            .config(TestPolicies.CONFIG)
            .retryPolicy(TestPolicies.fast(2))
            .build()
            .scan();
    return new Ran(
        report.stats(),
        report.failures().stream().map(ScanFailure::error).toList(),
        report.clusters().stream().map(EksCluster::name).toList());
  }
}
