package dev.fanout.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.ParallelConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The rate gates, checked from the server's side: WireMock's request log, grouped by the
 * (account, region, service) of each request's SigV4 credential scope, shows no scope going
 * faster than its gate, while different scopes run at the same time.
 */
class RateLimitTest {
  static final Duration SPACING = Duration.ofMillis(800);
  /**
   * How much later than its gate slot a request may reach the server: signing, connection and
   * scheduling on a loaded machine (stalls of 200 ms were seen on a shared 2-core build machine).
   * The gate's own slots are exact; what the server sees is each slot plus a delay between 0 and
   * this. Well below {@link #SPACING}, so that even two neighbouring requests must be 300 ms
   * apart; without gates, requests of one scope arrive a few ms apart.
   */
  static final Duration DELAY = Duration.ofMillis(500);

  FakeAws aws;
  AwsClients clients;

  @BeforeEach
  void start() throws Exception {
    aws = new FakeAws();
    clients = aws.clients();
    warmUp();
  }

  /**
   * One scan and one aggregation before the measured ones, then a clean request log: the first
   * request of a JVM loads the HTTP stack's classes after passing its gate, and would reach the
   * server late enough to look bunched with the next.
   */
  void warmUp() throws Exception {
    String account = FakeAws.account(99);
    aws.assumeRole(account);
    aws.eksClusters(account, "eu-west-1", List.of(List.of()));
    aws.sesContacts(account, "eu-west-1", "warm", List.of(List.of()));
    AccountScanner.builder(clients)
        .accounts(AccountSource.of(account))
        .credentials(AccountCredentials.assumeRole("r"))
        .regions("eu-west-1")
        .config(TestPolicies.CONFIG)
        .build()
        .scan();
    RecipientAggregator.builder(clients)
        .customers(CustomerMapping.of(new Customer("warm", "arn:aws:iam::" + account + ":role/r", "eu-west-1", "warm")))
        .config(TestPolicies.CONFIG)
        .build()
        .aggregate("t");
    aws.server.resetRequests();
  }

  @AfterEach
  void stop() {
    clients.close();
    aws.close();
  }

  static ParallelConfig spaced() {
    return TestPolicies.CONFIG.toBuilder().rateSpacing(SPACING).build();
  }

  Map<ThrottleScope, List<Instant>> requestsByScope() {
    return aws.seen().stream()
        .collect(
            Collectors.groupingBy(
                FakeAws.Seen::scope,
                () -> new TreeMap<>(java.util.Comparator.comparing(ThrottleScope::toString)),
                Collectors.mapping(FakeAws.Seen::at, Collectors.toList())));
  }

  /**
   * The bound a spacing gate keeps, as the server can see it: any {@code k + 1} requests of one
   * scope span at least {@code k} spacings, less the largest delay on the way.
   */
  static void assertSpaced(ThrottleScope scope, List<Instant> times) {
    for (int i = 0; i < times.size(); i++) {
      for (int j = i + 1; j < times.size(); j++) {
        assertThat(Duration.between(times.get(i), times.get(j)))
            .as("requests %d to %d of %s", i, j, scope)
            .isGreaterThanOrEqualTo(SPACING.multipliedBy(j - i).minus(DELAY));
      }
    }
  }

  @Test
  void noAccountRegionServiceOfAScanExceedsItsGate() throws Exception {
    List<String> accounts = IntStream.rangeClosed(1, 2).mapToObj(FakeAws::account).toList();
    List<String> regions = List.of("eu-west-1", "us-east-1");
    for (String account : accounts) {
      aws.assumeRole(account);
      for (String region : regions) {
        aws.eksClusters(account, region, List.of(List.of("a"), List.of("b")));
      }
    }

    ScanReport report =
        AccountScanner.builder(clients)
            .accounts(AccountSource.of(accounts))
            .credentials(AccountCredentials.assumeRole("r"))
            .regions(regions)
            .config(spaced())
            .retryPolicy(TestPolicies.fast(0))
            .build()
            .scan();

    assertThat(report.failures()).isEmpty();
    Map<ThrottleScope, List<Instant>> byScope = requestsByScope();
    // The caller's STS scope with 2 AssumeRole calls; 4 EKS scopes with 2 pages + 2 describes.
    assertThat(byScope).hasSize(5);
    assertThat(byScope.get(new ThrottleScope(ThrottleScope.CALLER, "us-east-1", "sts"))).hasSize(2);
    byScope.forEach(
        (scope, times) -> {
          if (scope.service().equals("eks")) {
            assertThat(times).as("requests of %s", scope).hasSize(4);
          }
          assertSpaced(scope, times);
        });
    // The scopes ran side by side: each EKS scope needs 3 spacings, and the second account's
    // start a spacing later (its AssumeRole passes the STS gate second), about 4 in all; one
    // after another the four would need 4 x 3 spacings at least.
    List<Instant> eks = new ArrayList<>();
    byScope.forEach((scope, times) -> { if (scope.service().equals("eks")) eks.addAll(times); });
    eks.sort(null);
    assertThat(Duration.between(eks.getFirst(), eks.getLast())).isLessThan(SPACING.multipliedBy(8));
  }

  @Test
  void customersSharingAnAccountShareItsGates() throws Exception {
    // Three customers whose contact lists live in one account and region: their tasks run at
    // once, but their STS and SES calls pass the same two gates.
    String account = FakeAws.account(7);
    List<Customer> customers =
        IntStream.rangeClosed(1, 3)
            .mapToObj(i -> new Customer("c" + i, "arn:aws:iam::" + account + ":role/reader", "eu-west-1", "list" + i))
            .toList();
    aws.assumeRole(account);
    for (Customer c : customers) {
      aws.sesContacts(account, "eu-west-1", c.contactList(),
          List.of(List.of(c.code() + "a@example.com"), List.of(c.code() + "b@example.com")));
    }

    RecipientReport report =
        RecipientAggregator.builder(clients)
            .customers(CustomerMapping.of(customers))
            .config(spaced().toBuilder().concurrency(3).build())
            .retryPolicy(TestPolicies.fast(0))
            .build()
            .aggregate("t");

    assertThat(report.recipients()).hasSize(6);
    Map<ThrottleScope, List<Instant>> byScope = requestsByScope();
    assertThat(byScope.keySet())
        .containsExactlyInAnyOrder(
            new ThrottleScope(ThrottleScope.CALLER, "eu-west-1", "sts"), new ThrottleScope(account, "eu-west-1", "ses"));
    assertThat(byScope.get(new ThrottleScope(account, "eu-west-1", "ses"))).hasSize(6);
    byScope.forEach(RateLimitTest::assertSpaced);
  }

  @Test
  void withoutGatesTheSameCheckFails() throws Exception {
    // The control: the same customers with no spacing. Their first pages arrive together, and
    // the check above would flag them; so its passing above is the gates' doing.
    String account = FakeAws.account(7);
    List<Customer> customers =
        IntStream.rangeClosed(1, 3)
            .mapToObj(i -> new Customer("c" + i, "arn:aws:iam::" + account + ":role/reader", "eu-west-1", "list" + i))
            .toList();
    aws.assumeRole(account);
    for (Customer c : customers) {
      aws.sesContacts(account, "eu-west-1", c.contactList(),
          List.of(List.of(c.code() + "a@example.com"), List.of(c.code() + "b@example.com")));
    }
    RecipientAggregator.builder(clients)
        .customers(CustomerMapping.of(customers))
        .config(TestPolicies.CONFIG.toBuilder().concurrency(3).build())
        .retryPolicy(TestPolicies.fast(0))
        .build()
        .aggregate("t");
    List<Instant> ses = requestsByScope().get(new ThrottleScope(account, "eu-west-1", "ses"));
    assertThat(ses).hasSize(6);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> assertSpaced(new ThrottleScope(account, "eu-west-1", "ses"), ses))
        .isInstanceOf(AssertionError.class);
  }
}
