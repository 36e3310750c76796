package dev.fanout.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fanout.ParallelConfig;
import dev.fanout.retry.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Recipient aggregation against real SDK clients and a WireMock STS and SES v2. */
class RecipientAggregatorTest {
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

  static Customer customer(int i) {
    return new Customer(
        "cust-%02d".formatted(i), "arn:aws:iam::" + FakeAws.account(i) + ":role/ses-reader", "us-east-1", "main");
  }

  /** Splits {@code emails} into pages of {@code size}. */
  static List<List<String>> pages(List<String> emails, int size) {
    List<List<String>> pages = new ArrayList<>();
    for (int i = 0; i < emails.size(); i += size) {
      pages.add(emails.subList(i, Math.min(emails.size(), i + size)));
    }
    return pages.isEmpty() ? List.of(List.of()) : pages;
  }

  RecipientAggregator.Builder aggregator(CustomerMapping mapping) {
    return aggregator(clients, mapping);
  }

  RecipientAggregator.Builder aggregator(AwsClients clients, CustomerMapping mapping) {
    return RecipientAggregator.builder(clients)
        .customers(mapping)
        .config(TestPolicies.CONFIG.toBuilder().concurrency(30).build())
        .retryPolicy(TestPolicies.fast(2));
  }

  @Test
  void theScenario150UniqueRecipientsFrom5Customers4Successful1Errors() throws Exception {
    List<Customer> customers = IntStream.rangeClosed(1, 5).mapToObj(RecipientAggregatorTest::customer).toList();
    // Four customers overlap: the i-th has user(30(i-1)) .. user(30(i-1)+59), the 2nd and 4th in
    // upper case; 150 unique addresses in all. They are cust-01, cust-02, cust-05, cust-04 in
    // that order; cust-03 cannot be entered.
    for (int i = 1; i <= 4; i++) {
      Customer c = customers.get(i == 3 ? 4 : i - 1);
      String account = c.accountId();
      aws.assumeRole(account);
      int from = 30 * (i - 1);
      boolean upper = i % 2 == 0;
      List<String> emails =
          IntStream.range(from, Math.min(150, from + 60))
              .mapToObj(j -> "user" + j + "@example.com")
              .map(e -> upper ? e.toUpperCase(Locale.ROOT) : e)
              .toList();
      aws.sesContacts(account, "us-east-1", "main", pages(emails, 25));
    }
    aws.assumeRoleDenied(customers.get(2).accountId());

    RecipientReport report = aggregator(CustomerMapping.of(customers)).build().aggregate("aws-calendar");

    assertThat(report.summary()).isEqualTo("150 unique recipients from 5 customers (4 successful, 1 errors)");
    assertThat(report.recipients()).hasSize(150);
    // Case-insensitive order; the first customer in mapping order gives the spelling.
    assertThat(report.recipients().getFirst()).isEqualTo("user0@example.com");
    assertThat(report.recipients()).contains("user30@example.com", "USER60@EXAMPLE.COM", "USER149@EXAMPLE.COM");
    assertThat(report.recipients()).doesNotContain("USER30@EXAMPLE.COM", "user60@example.com");
    assertThat(report.customers()).extracting(CustomerRecipients::code)
        .containsExactly("cust-01", "cust-02", "cust-03", "cust-04", "cust-05");
    assertThat(report.customers()).extracting(c -> c.recipients().size()).containsExactly(60, 60, 0, 60, 60);
    assertThat(report.errors()).containsOnlyKeys("cust-03");
    AwsCallException denied = (AwsCallException) report.errors().get("cust-03");
    assertThat(denied.operation()).isEqualTo("AssumeRole");
    assertThat(denied.reason()).isEqualTo(Outcome.Reason.NOT_RETRYABLE);
    // 60 addresses are 3 pages of at most 25; each page one request.
    assertThat(aws.count("ListContacts")).isEqualTo(4 * 3);
    assertThat(aws.count("AssumeRole")).isEqualTo(5);
  }

  @Test
  void serverErrorsResetsAndSlowAnswersFailOnlyTheirCustomer() throws Exception {
    List<Customer> customers = IntStream.rangeClosed(1, 6).mapToObj(RecipientAggregatorTest::customer).toList();
    for (Customer c : customers) {
      aws.assumeRole(c.accountId());
      aws.sesContacts(c.accountId(), "us-east-1", "main", List.of(List.of(c.code() + "@example.com")));
    }
    aws.alwaysFail(aws.listContactsRequest(customers.get(0).accountId(), "us-east-1", "main", null), FakeAws.serverError());
    aws.alwaysFail(aws.assumeRoleRequest(customers.get(1).accountId()), FakeAws.connectionReset());
    aws.alwaysFail(
        aws.listContactsRequest(customers.get(2).accountId(), "us-east-1", "main", null),
        aws.json("{\"Contacts\":[]}").withFixedDelay(FakeAws.TOO_LATE_MS));

    RecipientReport report;
    try (AwsClients impatient = aws.clients(FakeAws.SHORT_READ_TIMEOUT)) {
      report =
          aggregator(impatient, CustomerMapping.of(customers)).build().aggregate("aws-calendar");
    }

    assertThat(report.summary()).isEqualTo("3 unique recipients from 6 customers (3 successful, 3 errors)");
    assertThat(report.recipients()).containsExactly("cust-04@example.com", "cust-05@example.com", "cust-06@example.com");
    assertThat(report.errors().keySet()).containsExactly("cust-01", "cust-02", "cust-03");
    assertThat(report.errors().get("cust-01").getMessage()).contains("ListContacts").contains("Status Code: 500");
    assertThat(report.errors().get("cust-02").getMessage()).contains("AssumeRole").containsIgnoringCase("connection reset");
    assertThat(report.errors().get("cust-03").getMessage()).contains("ListContacts").containsIgnoringCase("timed out");
    assertThat(report.errors().values())
        .allSatisfy(e -> assertThat(((AwsCallException) e).attempts()).isEqualTo(3));
  }

  @Test
  void thirtyCustomersAt1sEachRunTogether() throws Exception {
    List<Customer> customers = IntStream.rangeClosed(1, 30).mapToObj(RecipientAggregatorTest::customer).toList();
    Duration latency = Duration.ofSeconds(1);
    aws.latencyMs = (int) latency.toMillis(); // each customer's SES answers after 1 s
    for (Customer c : customers) {
      aws.assumeRole(c.accountId());
      aws.sesContacts(c.accountId(), "us-east-1", "main", List.of(List.of(c.code() + "@example.com")));
    }
    aws.latencyMs = 0;
    for (Customer c : customers) {
      aws.assumeRole(c.accountId()); // STS answers at once
    }
    ParallelConfig thirty = TestPolicies.CONFIG.toBuilder().concurrency(30).build();
    // Warm-up on other clients: SDK classes loaded, the fake's and the JVM's own threads started.
    aggregator(CustomerMapping.of(customers)).config(thirty).build().aggregate("aws-calendar");
    clients.close();
    aws.server.resetRequests();
    Set<String> baseline = Threads.platformThreadNames();

    RecipientReport report;
    try (AwsClients fresh = aws.clients()) {
      report =
          RecipientAggregator.builder(fresh)
              .customers(CustomerMapping.of(customers))
              .config(thirty)
              .retryPolicy(TestPolicies.fast(0))
              .build()
              .aggregate("aws-calendar");
    }

    assertThat(report.summary()).isEqualTo("30 unique recipients from 30 customers (30 successful, 0 errors)");
    assertThat(report.elapsed()).isGreaterThanOrEqualTo(latency);
    // How many ran at once, as the server saw it rather than by the clock: a worker's next
    // ListContacts comes more than a latency after its last (it waits for the answer), so no more
    // requests arrive within one latency than there are workers. One after another that is 1;
    // together all 30 arrive within a few tens of ms, and a third of them within 1 s even on a
    // starved machine.
    List<Instant> lists =
        aws.seen().stream()
            .filter(s -> s.operation().equals("ListContacts"))
            .map(FakeAws.Seen::at)
            .toList();
    assertThat(lists).hasSize(30);
    long together = 0;
    for (Instant first : lists) {
      Instant end = first.plus(latency);
      long within = lists.stream().filter(t -> !t.isBefore(first) && t.isBefore(end)).count();
      together = Math.max(together, within);
    }
    assertThat(together)
        .as("most ListContacts received within %s", latency)
        .isGreaterThanOrEqualTo(10);
    // The pool's and the clients' threads are gone once both are closed.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(Threads.platformThreadNames()).isSubsetOf(baseline));
  }

  @Test
  void aDryRunCallsNothing() throws Exception {
    List<Customer> customers = IntStream.rangeClosed(1, 3).mapToObj(RecipientAggregatorTest::customer).toList();
    RecipientReport report =
        aggregator(CustomerMapping.of(customers)).dryRun(true).build().aggregate("aws-calendar", List.of("cust-01", "cust-03"));
    assertThat(report.dryRun()).isTrue();
    assertThat(report.summary()).isEqualTo("dry run: would query topic 'aws-calendar' from 2 customers");
    assertThat(report.customers()).extracting(CustomerRecipients::code).containsExactly("cust-01", "cust-03");
    assertThat(report.stats()).isEqualTo(new CallStats(0, 0, 0));
    assertThat(aws.server.getAllServeEvents()).isEmpty();
  }

  @Test
  void theTopicFilterIsSentAsSesExpectsIt() throws Exception {
    Customer c = customer(1);
    aws.assumeRole(c.accountId());
    aws.sesContacts(c.accountId(), "us-east-1", "main", List.of(List.of("a@example.com")));
    aggregator(CustomerMapping.of(c)).build().aggregate("aws-calendar");
    String body =
        aws.server.getAllServeEvents().stream()
            .filter(e -> e.getRequest().getUrl().endsWith("/contacts/list"))
            .findFirst()
            .orElseThrow()
            .getRequest()
            .getBodyAsString();
    assertThat(body)
        .contains("\"Filter\":{\"FilteredStatus\":\"OPT_IN\",\"TopicFilter\":{\"TopicName\":\"aws-calendar\"}}")
        .contains("\"PageSize\":1000");
  }

  @Test
  void badInputIsRejectedBeforeAnyCall() {
    RecipientAggregator aggregator = aggregator(CustomerMapping.of(customer(1), customer(2))).build();
    assertThatThrownBy(() -> aggregator.aggregate(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("topic must not be blank, was ' '");
    assertThatThrownBy(() -> aggregator.aggregate("t", List.of("cust-01", "nope")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown customer code 'nope'; known: cust-01, cust-02");
    assertThatThrownBy(() -> aggregator.aggregate("t", List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("customerCodes must not be empty");
    assertThatThrownBy(() -> RecipientAggregator.builder(clients).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("customers not set");
    assertThat(aws.server.getAllServeEvents()).isEmpty();
  }

  @Test
  void theDefaultConfigRunsThirtyCustomersAtOnce() {
    assertThat(RecipientAggregator.DEFAULT_CONFIG)
        .isEqualTo(
            ParallelConfig.defaults().toBuilder().concurrency(30).rateSpacing(Duration.ofMillis(20)).build());
  }
}
