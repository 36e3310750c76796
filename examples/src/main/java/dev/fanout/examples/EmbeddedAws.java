package dev.fanout.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
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
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.fanout.aws.AwsClients;
import dev.fanout.aws.Customer;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * A fake AWS for the examples: WireMock on 127.0.0.1 answering Organizations, STS, EKS and SES v2
 * in their real wire formats, with generated accounts, clusters, customers and contacts, a fixed
 * latency per response, one account or customer whose role cannot be assumed, and a short
 * throttling storm. Requests are told apart by the access key in their SigV4 signature: the
 * credentials STS hands out for account {@code N} have the access key {@code ASIA<N>}.
 */
final class EmbeddedAws implements AutoCloseable {
  static final List<String> REGIONS =
      List.of("eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-1");

  private final WireMockServer server;
  private final int latencyMs;

  EmbeddedAws(Duration latency) {
    this.latencyMs = (int) latency.toMillis();
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

  /** Clients for this fake, signing as a made-up caller. */
  AwsClients clients() {
    return AwsClients.builder()
        .endpointOverride(URI.create("http://127.0.0.1:" + server.port()))
        .credentialsProvider(
            StaticCredentialsProvider.create(
                AwsBasicCredentials.create("AKIAEXAMPLECALLER", "example-secret-not-real")))
        .readTimeout(Duration.ofSeconds(10))
        .build();
  }

  /** Sends throttling storms and other one-off behaviour back to their start. */
  void resetScenarios() {
    server.resetScenarios();
  }

  static String account(int i) {
    return String.format(Locale.ROOT, "%012d", 210000000000L + i);
  }

  // ---------------------------------------------------------------------------------------------
  // Account scan

  /**
   * An organization of {@code accounts} accounts (listed 4 per page). Every account but the
   * third lets its role be assumed; each has 0 to 2 EKS clusters per region; the first account's
   * first region is throttled twice before it answers.
   *
   * @return how many clusters can be found
   */
  int organization(int accounts, List<String> regions) {
    List<String> ids = new ArrayList<>();
    for (int a = 1; a <= accounts; a++) {
      ids.add(account(a));
    }
    for (int p = 0; p * 4 < ids.size(); p++) {
      List<String> page = ids.subList(p * 4, Math.min(ids.size(), p * 4 + 4));
      StringBuilder body = new StringBuilder("{\"Accounts\":[");
      for (int i = 0; i < page.size(); i++) {
        body.append(i == 0 ? "" : ",")
            .append("{\"Id\":\"%s\",\"Name\":\"team-%d\",\"Email\":\"aws+%s@example.com\",\"Status\":\"ACTIVE\",\"State\":\"ACTIVE\"}"
                .formatted(page.get(i), p * 4 + i + 1, page.get(i)));
      }
      body.append("]");
      if ((p + 1) * 4 < ids.size()) {
        body.append(",\"NextToken\":\"page-").append(p + 1).append("\"");
      }
      body.append("}");
      MappingBuilder request =
          post(urlPathEqualTo("/")).withHeader("X-Amz-Target", equalTo("AWSOrganizationsV20161128.ListAccounts"));
      request =
          p == 0
              ? request.withRequestBody(notContaining("NextToken"))
              : request.withRequestBody(matchingJsonPath("$.NextToken", equalTo("page-" + p)));
      server.stubFor(request.willReturn(ok("application/x-amz-json-1.1", body.toString())));
    }
    int clusters = 0;
    for (int a = 1; a <= accounts; a++) {
      String id = account(a);
      if (a == 3) {
        server.stubFor(assumeRole(id).willReturn(stsAccessDenied()));
        continue;
      }
      server.stubFor(assumeRole(id).willReturn(assumeRoleOk(id)));
      for (int r = 0; r < regions.size(); r++) {
        String region = regions.get(r);
        List<String> names = new ArrayList<>();
        for (int c = 0; c < (a * 7 + r * 3) % 3; c++) {
          names.add((c == 0 ? "prod-" : "staging-") + region);
        }
        clusters += names.size();
        String list =
            "{\"clusters\":[" + String.join(",", names.stream().map(n -> "\"" + n + "\"").toList()) + "]}";
        if (a == 1 && r == 0) {
          throttleTwice(() -> listClusters(id, region), list);
        } else {
          server.stubFor(listClusters(id, region).willReturn(ok("application/json", list)));
        }
        for (String name : names) {
          server.stubFor(
              signed(get(urlPathEqualTo("/clusters/" + name)), id, region, "eks")
                  .willReturn(ok("application/json", describe(id, region, name))));
        }
      }
    }
    return clusters;
  }

  private MappingBuilder listClusters(String account, String region) {
    return signed(get(urlPathEqualTo("/clusters")), account, region, "eks")
        .withQueryParam("nextToken", absent());
  }

  private void throttleTwice(java.util.function.Supplier<MappingBuilder> request, String body) {
    String scenario = "storm-" + body.hashCode();
    ResponseDefinitionBuilder throttled =
        aResponse()
            .withStatus(429)
            .withHeader("Content-Type", "application/json")
            .withHeader("x-amzn-ErrorType", "ThrottlingException")
            .withBody("{\"message\":\"Rate exceeded\"}");
    server.stubFor(request.get().inScenario(scenario).whenScenarioStateIs(Scenario.STARTED)
        .willSetStateTo("once").willReturn(throttled));
    server.stubFor(request.get().inScenario(scenario).whenScenarioStateIs("once")
        .willSetStateTo("twice").willReturn(throttled));
    server.stubFor(request.get().inScenario(scenario).whenScenarioStateIs("twice")
        .willReturn(ok("application/json", body)));
  }

  private static String describe(String account, String region, String name) {
    return ("{\"cluster\":{\"name\":\"%s\",\"arn\":\"arn:aws:eks:%s:%s:cluster/%s\","
            + "\"endpoint\":\"https://%s.%s.gr7.%s.eks.amazonaws.com\","
            + "\"certificateAuthority\":{\"data\":\"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\"},"
            + "\"version\":\"1.31\",\"status\":\"ACTIVE\"}}")
        .formatted(name, region, account, name, name, account, region);
  }

  // ---------------------------------------------------------------------------------------------
  // Recipients

  /**
   * {@code count} customers in us-east-1, each with 8 to 12 opted-in contacts (two pages), many
   * of them shared with other customers in another letter case. The customer in the middle
   * cannot be entered.
   */
  List<Customer> customers(int count) {
    List<Customer> customers = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      String id = account(100 + i);
      Customer customer =
          new Customer("cust-%02d".formatted(i), "arn:aws:iam::" + id + ":role/ses-contacts-reader", "us-east-1", "main");
      customers.add(customer);
      if (i == (count + 1) / 2) {
        server.stubFor(assumeRole(id).willReturn(stsAccessDenied()));
        continue;
      }
      server.stubFor(assumeRole(id).willReturn(assumeRoleOk(id)));
      List<String> emails = new ArrayList<>();
      for (int j = 0; j < 8 + i % 5; j++) {
        String email = "user" + ((i * 5 + j) % 200) + "@example.com";
        emails.add(j % 2 == 0 ? email : email.toUpperCase(Locale.ROOT));
      }
      int half = emails.size() / 2;
      stubContacts(id, emails.subList(0, half), null, "next-" + id);
      stubContacts(id, emails.subList(half, emails.size()), "next-" + id, null);
    }
    return customers;
  }

  private void stubContacts(String account, List<String> emails, @Nullable String token, @Nullable String next) {
    String contacts =
        String.join(",", emails.stream().map(e -> "{\"EmailAddress\":\"" + e + "\",\"UnsubscribeAll\":false}").toList());
    MappingBuilder request =
        signed(post(urlPathEqualTo("/v2/email/contact-lists/main/contacts/list")), account, "us-east-1", "ses");
    request =
        token == null
            ? request.withRequestBody(notContaining("NextToken"))
            : request.withRequestBody(matchingJsonPath("$.NextToken", equalTo(token)));
    String body = "{\"Contacts\":[" + contacts + "]" + (next == null ? "" : ",\"NextToken\":\"" + next + "\"") + "}";
    server.stubFor(request.willReturn(ok("application/json", body)));
  }

  // ---------------------------------------------------------------------------------------------
  // Shared

  private static MappingBuilder signed(MappingBuilder builder, String account, String region, String service) {
    return builder.withHeader(
        "Authorization",
        containing("Credential=ASIA" + account + "/").and(containing("/" + region + "/" + service + "/aws4_request")));
  }

  private static MappingBuilder assumeRole(String account) {
    return post(urlPathEqualTo("/"))
        .withRequestBody(containing("Action=AssumeRole"))
        .withRequestBody(containing("RoleArn=arn%3Aaws%3Aiam%3A%3A" + account + "%3Arole"));
  }

  private ResponseDefinitionBuilder assumeRoleOk(String account) {
    return ok(
        "text/xml",
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials>"
            + "<AccessKeyId>ASIA" + account + "</AccessKeyId>"
            + "<SecretAccessKey>example-session-secret</SecretAccessKey>"
            + "<SessionToken>example-session-token</SessionToken>"
            + "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>");
  }

  private static ResponseDefinitionBuilder stsAccessDenied() {
    return aResponse()
        .withStatus(403)
        .withHeader("Content-Type", "text/xml")
        .withBody(
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized"
                + " to perform: sts:AssumeRole</Message></Error><RequestId>example</RequestId></ErrorResponse>");
  }

  private ResponseDefinitionBuilder ok(String contentType, String body) {
    return aResponse()
        .withStatus(200)
        .withHeader("Content-Type", contentType)
        .withBody(body)
        .withFixedDelay(latencyMs);
  }

  @Override
  public void close() {
    server.stop();
  }
}
