package dev.fanout.aws;

import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.notContaining;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.common.Slf4jNotifier;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * A fake AWS on WireMock, bound to 127.0.0.1: stubs in each service's real wire format (JSON 1.1
 * for Organizations, REST-JSON for EKS, SSO and SES v2, query/XML for STS), and the request log
 * read back by (account, region, service), taken from each request's SigV4 credential scope.
 *
 * <p>Each account's assumed-role credentials are recognisable: access key {@code ASIA<account>},
 * secret {@code SECRET-<account>-do-not-log}, session token {@code TOKEN-<account>-do-not-log}.
 */
final class FakeAws implements AutoCloseable {
  static final String CALLER_KEY = "AKIACALLER000000";
  static final String CALLER_SECRET = "CALLER-SECRET-do-not-log";
  static final String SSO_TOKEN = "SSO-TOKEN-do-not-log";
  private static final String ORGS_TARGET = "AWSOrganizationsV20161128.ListAccounts";
  private static final Pattern CREDENTIAL =
      Pattern.compile("Credential=([^/]+)/\\d{8}/([^/]+)/([^/]+)/aws4_request");
  private static final AtomicInteger SCENARIOS = new AtomicInteger();

  /**
   * The read timeout of clients whose calls are meant to be answered: far beyond any answer of
   * this fake on a loaded machine, so that no ordinary answer times out, is retried and throws an
   * exact count off.
   */
  static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
  /**
   * The read timeout of clients in tests where some answers are meant to come too late: each such
   * attempt costs this long, and the other calls of the test still have 2 s to be answered.
   */
  static final Duration SHORT_READ_TIMEOUT = Duration.ofSeconds(2);
  /**
   * The delay of an answer meant to come too late: 3 times {@link #SHORT_READ_TIMEOUT}, so that a
   * late-running timeout still fires long before it. Below {@link #READ_TIMEOUT}.
   */
  static final int TOO_LATE_MS = 6_000;

  final WireMockServer server;
  /** Delay added to every successful response, to simulate network and service latency. */
  volatile int latencyMs;

  FakeAws() {
    server =
        new WireMockServer(
            WireMockConfiguration.options()
                .bindAddress("127.0.0.1")
                .dynamicPort()
                .containerThreads(100)
                .asynchronousResponseEnabled(true)
                .asynchronousResponseThreads(16)
                .notifier(new Slf4jNotifier(false)));
    server.start();
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.port());
  }

  /** Clients pointing here with the caller's static credentials and {@link #READ_TIMEOUT}. */
  AwsClients clients() {
    return clients(READ_TIMEOUT);
  }

  /** Clients pointing here with the caller's static credentials. */
  AwsClients clients(Duration readTimeout) {
    return AwsClients.builder()
        .endpointOverride(endpoint())
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(CALLER_KEY, CALLER_SECRET)))
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(readTimeout)
        .build();
  }

  static String accessKey(String account) {
    return "ASIA" + account;
  }

  static String secret(String account) {
    return "SECRET-" + account + "-do-not-log";
  }

  static String sessionToken(String account) {
    return "TOKEN-" + account + "-do-not-log";
  }

  static String account(int i) {
    return String.format(Locale.ROOT, "%012d", 100000000000L + i);
  }

  // ---------------------------------------------------------------------------------------------
  // Responses

  ResponseDefinitionBuilder ok(String contentType, String body) {
    ResponseDefinitionBuilder response =
        aResponse().withStatus(200).withHeader("Content-Type", contentType).withBody(body);
    int latency = latencyMs;
    return latency > 0 ? response.withFixedDelay(latency) : response;
  }

  ResponseDefinitionBuilder json(String body) {
    return ok("application/json", body);
  }

  static ResponseDefinitionBuilder restJsonError(int status, String type, String message) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "application/json")
        .withHeader("x-amzn-ErrorType", type)
        .withHeader("x-amzn-RequestId", "req-" + type)
        .withBody("{\"message\":\"" + message + "\"}");
  }

  /** SES v2 throttling: 429 TooManyRequestsException. */
  static ResponseDefinitionBuilder sesThrottle() {
    return restJsonError(429, "TooManyRequestsException", "Too many requests");
  }

  /** EKS throttling: 429 ThrottlingException. */
  static ResponseDefinitionBuilder eksThrottle() {
    return restJsonError(429, "ThrottlingException", "Rate exceeded");
  }

  /** SSO throttling: 429 TooManyRequestsException. */
  static ResponseDefinitionBuilder ssoThrottle() {
    return restJsonError(429, "TooManyRequestsException", "Too many requests");
  }

  /** Organizations throttling: 400 with {@code __type} TooManyRequestsException. */
  static ResponseDefinitionBuilder organizationsThrottle() {
    return aResponse()
        .withStatus(400)
        .withHeader("Content-Type", "application/x-amz-json-1.1")
        .withHeader("x-amzn-RequestId", "req-orgs-throttle")
        .withBody(
            "{\"__type\":\"TooManyRequestsException\",\"Message\":\"AWS Organizations can't complete"
                + " your request because another request is already in progress.\"}");
  }

  /** STS throttling: 400 XML with {@code <Code>Throttling</Code>}. */
  static ResponseDefinitionBuilder stsThrottle() {
    return stsError(400, "Throttling", "Rate exceeded");
  }

  static ResponseDefinitionBuilder stsError(int status, String code, String message) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "text/xml")
        .withBody(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
                + "<Type>Sender</Type><Code>"
                + code
                + "</Code><Message>"
                + message
                + "</Message></Error><RequestId>req-sts-"
                + code
                + "</RequestId></ErrorResponse>");
  }

  static ResponseDefinitionBuilder serverError() {
    return restJsonError(500, "InternalFailure", "We encountered an internal error");
  }

  static ResponseDefinitionBuilder connectionReset() {
    return aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER);
  }

  // ---------------------------------------------------------------------------------------------
  // Request matchers

  static MappingBuilder signedBy(MappingBuilder builder, @Nullable String account, String region, String service) {
    String key = account == null ? CALLER_KEY : accessKey(account);
    return builder.withHeader(
        "Authorization",
        containing("Credential=" + key + "/").and(containing("/" + region + "/" + service + "/aws4_request")));
  }

  MappingBuilder assumeRoleRequest(String account) {
    return post(urlPathEqualTo("/"))
        .withHeader("Authorization", containing("/sts/aws4_request"))
        .withRequestBody(containing("Action=AssumeRole"))
        .withRequestBody(containing("RoleArn=arn%3Aaws%3Aiam%3A%3A" + account + "%3Arole"));
  }

  MappingBuilder listClustersRequest(String account, String region, @Nullable String token) {
    MappingBuilder b = signedBy(get(urlPathEqualTo("/clusters")), account, region, "eks");
    return b.withQueryParam("nextToken", token == null ? absent() : equalTo(token));
  }

  MappingBuilder describeClusterRequest(String account, String region, String name) {
    return signedBy(get(urlPathEqualTo("/clusters/" + name)), account, region, "eks");
  }

  MappingBuilder listAccountsRequest(@Nullable String token) {
    MappingBuilder b =
        signedBy(post(urlPathEqualTo("/")), null, "us-east-1", "organizations")
            .withHeader("X-Amz-Target", equalTo(ORGS_TARGET));
    return token == null
        ? b.withRequestBody(notContaining("NextToken"))
        : b.withRequestBody(matchingJsonPath("$.NextToken", equalTo(token)));
  }

  MappingBuilder listContactsRequest(String account, String region, String list, @Nullable String token) {
    MappingBuilder b =
        signedBy(
            post(urlPathEqualTo("/v2/email/contact-lists/" + list + "/contacts/list")),
            account,
            region,
            "ses");
    return token == null
        ? b.withRequestBody(notContaining("NextToken"))
        : b.withRequestBody(matchingJsonPath("$.NextToken", equalTo(token)));
  }

  MappingBuilder ssoListAccountsRequest(@Nullable String token) {
    MappingBuilder b =
        get(urlPathEqualTo("/assignment/accounts")).withHeader("x-amz-sso_bearer_token", equalTo(SSO_TOKEN));
    return b.withQueryParam("next_token", token == null ? absent() : equalTo(token));
  }

  MappingBuilder ssoListRolesRequest(String account, @Nullable String token) {
    return get(urlPathEqualTo("/assignment/roles"))
        .withHeader("x-amz-sso_bearer_token", equalTo(SSO_TOKEN))
        .withQueryParam("account_id", equalTo(account))
        .withQueryParam("next_token", token == null ? absent() : equalTo(token));
  }

  MappingBuilder ssoCredentialsRequest(String account, String role) {
    return get(urlPathEqualTo("/federation/credentials"))
        .withHeader("x-amz-sso_bearer_token", equalTo(SSO_TOKEN))
        .withQueryParam("account_id", equalTo(account))
        .withQueryParam("role_name", equalTo(role));
  }

  // ---------------------------------------------------------------------------------------------
  // Stubs

  void stub(MappingBuilder request, ResponseDefinitionBuilder response) {
    server.stubFor(request.willReturn(response));
  }

  /** STS AssumeRole into {@code account} succeeds with the account's recognisable credentials. */
  void assumeRole(String account) {
    stub(assumeRoleRequest(account), assumeRoleOk(account));
  }

  ResponseDefinitionBuilder assumeRoleOk(String account) {
    return ok(
        "text/xml",
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
            + "<Credentials><AccessKeyId>"
            + accessKey(account)
            + "</AccessKeyId><SecretAccessKey>"
            + secret(account)
            + "</SecretAccessKey><SessionToken>"
            + sessionToken(account)
            + "</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
            + "<AssumedRoleUser><AssumedRoleId>AROA"
            + account
            + ":fanout</AssumedRoleId><Arn>arn:aws:sts::"
            + account
            + ":assumed-role/r/fanout</Arn></AssumedRoleUser></AssumeRoleResult>"
            + "<ResponseMetadata><RequestId>req-assume-"
            + account
            + "</RequestId></ResponseMetadata></AssumeRoleResponse>");
  }

  /** STS AssumeRole into {@code account} is denied (403 AccessDenied). */
  void assumeRoleDenied(String account) {
    stub(
        assumeRoleRequest(account),
        stsError(403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole"));
  }

  /** Organizations ListAccounts returns these pages of account ids (all ACTIVE). */
  void organizationAccounts(List<List<String>> pages) {
    for (int p = 0; p < pages.size(); p++) {
      StringBuilder accounts = new StringBuilder();
      for (String id : pages.get(p)) {
        if (!accounts.isEmpty()) {
          accounts.append(',');
        }
        accounts.append(
            "{\"Id\":\"%s\",\"Arn\":\"arn:aws:organizations::999999999999:account/o-x/%s\",\"Email\":\"%s@example.com\",\"Name\":\"acct-%s\",\"Status\":\"ACTIVE\",\"State\":\"ACTIVE\",\"JoinedMethod\":\"CREATED\",\"JoinedTimestamp\":1.7E9}"
                .formatted(id, id, id, id));
      }
      String next = p + 1 < pages.size() ? ",\"NextToken\":\"orgs-" + (p + 1) + "\"" : "";
      stub(
          listAccountsRequest(p == 0 ? null : "orgs-" + p),
          ok("application/x-amz-json-1.1", "{\"Accounts\":[" + accounts + "]" + next + "}"));
    }
  }

  /** EKS ListClusters in (account, region) returns these pages; each cluster is describable. */
  void eksClusters(String account, String region, List<List<String>> pages) {
    for (int p = 0; p < pages.size(); p++) {
      String names = String.join(",", pages.get(p).stream().map(n -> "\"" + n + "\"").toList());
      String token = p == 0 ? null : tokenOf(account, region, p);
      String next = p + 1 < pages.size() ? ",\"nextToken\":\"" + tokenOf(account, region, p + 1) + "\"" : "";
      stub(listClustersRequest(account, region, token), json("{\"clusters\":[" + names + "]" + next + "}"));
      for (String name : pages.get(p)) {
        stub(describeClusterRequest(account, region, name), json(describeBody(account, region, name)));
      }
    }
  }

  static String tokenOf(String account, String region, int page) {
    return "eks-" + account + "-" + region + "-" + page;
  }

  static String endpointOf(String account, String region, String name) {
    return "https://" + name + "." + account + ".gr7." + region + ".eks.amazonaws.com";
  }

  static String caOf(String name) {
    return "LS0tLS1CRUdJTi" + name.replace("-", "") + "==";
  }

  static String describeBody(String account, String region, String name) {
    return "{\"cluster\":{\"name\":\"%s\",\"arn\":\"arn:aws:eks:%s:%s:cluster/%s\",\"endpoint\":\"%s\",\"certificateAuthority\":{\"data\":\"%s\"},\"version\":\"1.31\",\"status\":\"ACTIVE\",\"createdAt\":1.7E9}}"
        .formatted(name, region, account, name, endpointOf(account, region, name), caOf(name));
  }

  /** SES v2 ListContacts of (account, region, list) returns these pages of addresses. */
  void sesContacts(String account, String region, String list, List<List<String>> pages) {
    for (int p = 0; p < pages.size(); p++) {
      String contacts =
          String.join(
              ",",
              pages.get(p).stream()
                  .map(
                      e ->
                          "{\"EmailAddress\":\"" + e + "\",\"TopicPreferences\":[],\"TopicDefaultPreferences\":[],\"UnsubscribeAll\":false,\"LastUpdatedTimestamp\":1.7E9}")
                  .toList());
      String token = p == 0 ? null : "ses-" + account + "-" + p;
      String next = p + 1 < pages.size() ? ",\"NextToken\":\"ses-" + account + "-" + (p + 1) + "\"" : "";
      stub(listContactsRequest(account, region, list, token), json("{\"Contacts\":[" + contacts + "]" + next + "}"));
    }
  }

  /** SSO ListAccounts returns these pages of account ids. */
  void ssoAccounts(List<List<String>> pages) {
    for (int p = 0; p < pages.size(); p++) {
      String accounts =
          String.join(
              ",",
              pages.get(p).stream()
                  .map(
                      id ->
                          "{\"accountId\":\"" + id + "\",\"accountName\":\"acct-" + id + "\",\"emailAddress\":\"" + id + "@example.com\"}")
                  .toList());
      String next = p + 1 < pages.size() ? ",\"nextToken\":\"sso-" + (p + 1) + "\"" : "";
      stub(ssoListAccountsRequest(p == 0 ? null : "sso-" + p), json("{\"accountList\":[" + accounts + "]" + next + "}"));
    }
  }

  /** SSO ListAccountRoles of {@code account} returns these pages of role names. */
  void ssoRoles(String account, List<List<String>> pages) {
    for (int p = 0; p < pages.size(); p++) {
      String roles =
          String.join(
              ",",
              pages.get(p).stream()
                  .map(r -> "{\"roleName\":\"" + r + "\",\"accountId\":\"" + account + "\"}")
                  .toList());
      String token = p == 0 ? null : "roles-" + account + "-" + p;
      String next = p + 1 < pages.size() ? ",\"nextToken\":\"roles-" + account + "-" + (p + 1) + "\"" : "";
      stub(ssoListRolesRequest(account, token), json("{\"roleList\":[" + roles + "]" + next + "}"));
    }
  }

  /** SSO GetRoleCredentials for (account, role) returns the account's recognisable credentials. */
  void ssoCredentials(String account, String role) {
    stub(ssoCredentialsRequest(account, role), ssoCredentialsOk(account));
  }

  ResponseDefinitionBuilder ssoCredentialsOk(String account) {
    return json(
        "{\"roleCredentials\":{\"accessKeyId\":\""
            + accessKey(account)
            + "\",\"secretAccessKey\":\""
            + secret(account)
            + "\",\"sessionToken\":\""
            + sessionToken(account)
            + "\",\"expiration\":"
            + Instant.parse("2099-01-01T00:00:00Z").toEpochMilli()
            + "}}");
  }

  /**
   * Answers {@code request} with {@code failure} the first {@code times} times, then with
   * {@code success}: a storm that ends. Requests to one storm must not race.
   */
  void failThenSucceed(
      Supplier<MappingBuilder> request,
      ResponseDefinitionBuilder failure,
      int times,
      ResponseDefinitionBuilder success) {
    String scenario = "storm-" + SCENARIOS.incrementAndGet();
    for (int i = 0; i < times; i++) {
      server.stubFor(
          request
              .get()
              .atPriority(1)
              .inScenario(scenario)
              .whenScenarioStateIs(i == 0 ? Scenario.STARTED : "after-" + i)
              .willSetStateTo("after-" + (i + 1))
              .willReturn(failure));
    }
    server.stubFor(
        request
            .get()
            .atPriority(1)
            .inScenario(scenario)
            .whenScenarioStateIs(times == 0 ? Scenario.STARTED : "after-" + times)
            .willReturn(success));
  }

  /** Answers {@code request} with {@code failure}, always, ahead of other stubs. */
  void alwaysFail(MappingBuilder request, ResponseDefinitionBuilder failure) {
    server.stubFor(request.atPriority(1).willReturn(failure));
  }

  // ---------------------------------------------------------------------------------------------
  // Request log

  /** A logged request and the scope it was made in. */
  record Seen(ThrottleScope scope, String operation, Instant at) {}

  /** Every request received, oldest first. */
  List<Seen> seen() {
    List<Seen> all = new ArrayList<>();
    for (ServeEvent event : server.getAllServeEvents()) {
      LoggedRequest r = event.getRequest();
      all.add(new Seen(scopeOf(r), operationOf(r), r.getLoggedDate().toInstant()));
    }
    all.sort(Comparator.comparing(Seen::at));
    return all;
  }

  /** How many requests of this operation were received. */
  long count(String operation) {
    return seen().stream().filter(s -> s.operation().equals(operation)).count();
  }

  /** How many requests of this operation were received in this account. */
  long count(String operation, String account) {
    return seen().stream()
        .filter(s -> s.operation().equals(operation) && s.scope().accountId().equals(account))
        .count();
  }

  static ThrottleScope scopeOf(LoggedRequest r) {
    String auth = r.getHeader("Authorization");
    if (auth != null) {
      Matcher m = CREDENTIAL.matcher(auth);
      if (m.find()) {
        String key = m.group(1);
        String account = key.startsWith("ASIA") ? key.substring(4) : ThrottleScope.CALLER;
        return new ThrottleScope(account, m.group(2), m.group(3));
      }
    }
    return new ThrottleScope(ThrottleScope.CALLER, "sso", "sso"); // unsigned: the token's user
  }

  static String operationOf(LoggedRequest r) {
    String path = r.getUrl().replaceAll("\\?.*", "");
    String target = r.getHeader("X-Amz-Target");
    if (target != null) {
      return target.substring(target.indexOf('.') + 1);
    }
    if (path.equals("/") && r.getBodyAsString().contains("Action=AssumeRole")) {
      return "AssumeRole";
    }
    if (path.equals("/clusters")) {
      return "ListClusters";
    }
    if (path.startsWith("/clusters/")) {
      return "DescribeCluster";
    }
    if (path.endsWith("/contacts/list")) {
      return "ListContacts";
    }
    if (path.equals("/assignment/accounts")) {
      return "SsoListAccounts";
    }
    if (path.equals("/assignment/roles")) {
      return "ListAccountRoles";
    }
    if (path.equals("/federation/credentials")) {
      return "GetRoleCredentials";
    }
    return r.getMethod() + " " + path;
  }

  @Override
  public void close() {
    server.stop();
  }
}
