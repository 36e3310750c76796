package dev.fanout.aws;

import dev.fanout.FanOutOptions;
import dev.fanout.FanOutReport;
import dev.fanout.ParallelConfig;
import dev.fanout.ProgressListener;
import dev.fanout.Result;
import dev.fanout.WorkerPool;
import dev.fanout.rate.KeyedRateGates;
import dev.fanout.rate.RateGate;
import dev.fanout.retry.RetryPolicy;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.services.sesv2.SesV2Client;
import software.amazon.awssdk.services.sesv2.model.Contact;
import software.amazon.awssdk.services.sesv2.model.ListContactsFilter;
import software.amazon.awssdk.services.sesv2.model.ListContactsResponse;
import software.amazon.awssdk.services.sesv2.model.SubscriptionStatus;
import software.amazon.awssdk.services.sesv2.model.TopicFilter;
import software.amazon.awssdk.services.sts.model.Credentials;

/**
 * Gathers the recipients of an SES topic across many customer accounts at once: per customer,
 * assume its role (STS {@code AssumeRole}) and list the contacts of its contact list that opted in
 * to the topic (SES v2 {@code ListContacts}, {@code FilteredStatus=OPT_IN}, page by page); then
 * de-duplicate the addresses across customers without regard to letter case.
 *
 * {@snippet file="dev/fanout/aws/snippets/AwsSnippets.java" region="aggregate"}
 * }
 *
 * <p>Each customer is one task of a {@link WorkerPool} fan-out, keyed by customer code: one
 * customer's failure (a role it cannot assume, a throttled or failing SES, a timeout) is reported
 * for that customer and the others go on. Inside a task every API call runs under the retry
 * policy, each attempt through the rate gate of its {@link ThrottleScope}, as in
 * {@link AccountScanner}: {@code AssumeRole} counts against the caller's own account
 * ({@link ThrottleScope#CALLER}, the customer's region, {@code sts}), so all customers' role
 * assumptions share one gate per region; {@code ListContacts} against the customer's account
 * (its account, its region, {@code ses}).
 *
 * <p>By default ({@link #DEFAULT_CONFIG}) 30 customers run at once (so 30 customer
 * accounts are queried all together), at most one call per 20 ms per scope (so 30
 * customers' role assumptions take about 0.6 s; STS allows far more), with a 5 min deadline and
 * 3 retries per call.
 *
 * <p>A {@linkplain Builder#dryRun dry run} checks its input (topic, customer codes), logs the
 * calls it would make and makes none.
 */
public final class RecipientAggregator {
  private static final Logger log = LoggerFactory.getLogger(RecipientAggregator.class);

  /**
   * The default config: {@link ParallelConfig#defaults()} with 30 workers and 20 ms between
   * calls per scope.
   */
  public static final ParallelConfig DEFAULT_CONFIG =
      ParallelConfig.defaults().toBuilder()
          .concurrency(30)
          .rateSpacing(Duration.ofMillis(20))
          .build();

  /** SES v2's largest ListContacts page. */
  static final int PAGE_SIZE = 1000;

  private final AwsClients clients;
  private final CustomerMapping customers;
  private final ParallelConfig config;
  private final CallRunner calls;
  private final boolean dryRun;
  private final boolean includeTopicDefaults;
  private final int maxPages;
  private final String sessionName;
  private final ProgressListener progress;
  private final String name;
  private final @Nullable MeterRegistry registry;

  private RecipientAggregator(Builder b, CustomerMapping customers) {
    this.clients = b.clients;
    this.customers = customers;
    this.config = b.config;
    this.dryRun = b.dryRun;
    this.includeTopicDefaults = b.includeTopicDefaults;
    this.maxPages = b.maxPages;
    this.sessionName = b.sessionName;
    this.progress = b.progress;
    this.name = b.name;
    this.registry = b.registry;
    RetryPolicy policy = b.retryPolicy;
    if (policy == null) {
      RetryPolicy.Builder defaults = AwsErrors.retryPolicyBuilder(b.config).name(b.name);
      if (b.registry != null) {
        defaults.meterRegistry(b.registry);
      }
      policy = defaults.build();
    }
    Function<ThrottleScope, RateGate> factory = b.gateFactory;
    if (factory == null) {
      Duration spacing = b.config.rateSpacing();
      factory = scope -> RateGate.spacing(spacing);
    }
    KeyedRateGates.Builder<ThrottleScope> gates = KeyedRateGates.builder(factory).name(name);
    if (registry != null) {
      gates.meterRegistry(registry);
    }
    this.calls = new CallRunner(policy, gates.build());
  }

  /** A builder aggregating with {@code clients}. */
  public static Builder builder(AwsClients clients) {
    return new Builder(clients);
  }

  /** The recipients of {@code topic} across every customer of the mapping. */
  public RecipientReport aggregate(String topic) throws InterruptedException {
    return aggregate(topic, customers.codes());
  }

  /**
   * The recipients of {@code topic} across the given customers.
   *
   * @throws IllegalArgumentException if the topic is blank, the codes are empty, repeat, or name
   *     a customer the mapping does not have
   * @throws InterruptedException if interrupted; the customers' tasks are then cancelled
   */
  public RecipientReport aggregate(String topic, Collection<String> customerCodes)
      throws InterruptedException {
    Objects.requireNonNull(topic, "topic must not be null");
    if (topic.isBlank()) {
      throw new IllegalArgumentException("topic must not be blank, was '" + topic + "'");
    }
    Objects.requireNonNull(customerCodes, "customerCodes must not be null");
    if (customerCodes.isEmpty()) {
      throw new IllegalArgumentException("customerCodes must not be empty");
    }
    LinkedHashSet<String> codes = new LinkedHashSet<>();
    List<Customer> selected = new ArrayList<>();
    for (String code : customerCodes) {
      Customer customer = customers.customer(code);
      if (!codes.add(code)) {
        throw new IllegalArgumentException("customerCodes has '" + code + "' twice");
      }
      selected.add(customer);
    }
    long start = System.nanoTime();
    CallStats before = calls.stats();
    log.info(
        "Querying {} topic from {} customers concurrently ({} at a time)...",
        topic,
        selected.size(),
        Math.min(selected.size(), config.concurrency()));

    if (dryRun) {
      List<CustomerRecipients> planned = new ArrayList<>();
      for (Customer c : selected) {
        log.info(
            "Dry run: would query customer {}: AssumeRole {} in {}, then ListContacts of '{}' opted in to '{}'",
            c.code(),
            c.roleArn(),
            c.region(),
            c.contactList(),
            topic);
        planned.add(new CustomerRecipients(c.code(), List.of(), null, Duration.ZERO));
      }
      RecipientReport report =
          new RecipientReport(
              topic, List.of(), planned, new CallStats(0, 0, 0), Duration.ofNanos(System.nanoTime() - start), true);
      log.info("{}", report.summary());
      return report;
    }

    FanOutReport<String, List<String>> results;
    try (WorkerPool pool = poolBuilder().build()) {
      results =
          pool.fanOutAndWait(
              List.copyOf(codes),
              code -> query(customers.customer(code), topic),
              FanOutOptions.of(config).withProgress(progress));
    }

    List<CustomerRecipients> parts = new ArrayList<>(selected.size());
    // Case-insensitive de-duplication in customer order, so the result does not depend on
    // which customer answered first.
    Map<String, String> unique = new TreeMap<>();
    for (Customer c : selected) {
      Result.Success<String, List<String>> ok = results.successes().get(c.code());
      if (ok != null) {
        List<String> found = ok.value() == null ? List.of() : ok.value();
        parts.add(new CustomerRecipients(c.code(), found, null, ok.elapsed()));
        for (String email : found) {
          String trimmed = email.strip();
          if (!trimmed.isEmpty()) {
            unique.putIfAbsent(trimmed.toLowerCase(Locale.ROOT), trimmed);
          }
        }
      } else {
        Result.Failure<String, List<String>> failure = results.failures().get(c.code());
        Throwable error =
            failure != null ? failure.error() : new IllegalStateException("no result for " + c.code());
        Duration elapsed = failure != null ? failure.elapsed() : Duration.ZERO;
        parts.add(new CustomerRecipients(c.code(), List.of(), error, elapsed));
        log.warn("Failed to get recipients for customer {}: {}", c.code(), AwsErrors.describe(error));
      }
    }
    CallStats after = calls.stats();
    RecipientReport report =
        new RecipientReport(
            topic,
            new ArrayList<>(unique.values()),
            parts,
            new CallStats(
                after.calls() - before.calls(),
                after.attempts() - before.attempts(),
                after.throttles() - before.throttles()),
            Duration.ofNanos(System.nanoTime() - start),
            false);
    log.info("Aggregation complete: {}", report.summary());
    return report;
  }

  private WorkerPool.Builder poolBuilder() {
    WorkerPool.Builder builder =
        WorkerPool.builder(config)
            .name(name)
            .policies(CallRunner.taskPolicies(config)); // calls retry and are gated one by one
    if (registry != null) {
      builder.meterRegistry(registry);
    }
    return builder;
  }

  private List<String> query(Customer customer, String topic) throws InterruptedException {
    log.debug("Querying customer: {}", customer.code());
    String account = customer.accountId();
    String region = customer.region();
    Credentials c =
        calls.call(
            new ThrottleScope(ThrottleScope.CALLER, region, "sts"), // counts against the caller
            "AssumeRole",
            null,
            o ->
                clients
                    .sts(region)
                    .assumeRole(
                        b ->
                            b.roleArn(customer.roleArn())
                                .roleSessionName(sessionName)
                                .overrideConfiguration(o))
                    .credentials());
    AwsSessionCredentials session =
        AwsSessionCredentials.builder()
            .accessKeyId(c.accessKeyId())
            .secretAccessKey(c.secretAccessKey())
            .sessionToken(c.sessionToken())
            .expirationTime(c.expiration())
            .accountId(account)
            .build();
    AwsCredentialsProvider asCustomer = () -> session;
    ListContactsFilter filter =
        ListContactsFilter.builder()
            .filteredStatus(SubscriptionStatus.OPT_IN)
            .topicFilter(
                TopicFilter.builder()
                    .topicName(topic)
                    .useDefaultIfPreferenceUnavailable(includeTopicDefaults ? Boolean.TRUE : null)
                    .build())
            .build();
    SesV2Client ses = clients.sesV2(region);
    ThrottleScope scope = new ThrottleScope(account, region, "ses");
    List<String> emails = new ArrayList<>();
    Pages.forEach(
        "SES ListContacts of customer " + customer.code(),
        maxPages,
        token ->
            calls.call(
                scope,
                "ListContacts",
                asCustomer,
                o ->
                    ses.listContacts(
                        b ->
                            b.contactListName(customer.contactList())
                                .filter(filter)
                                .pageSize(PAGE_SIZE)
                                .nextToken(token)
                                .overrideConfiguration(o))),
        ListContactsResponse::nextToken,
        page -> page.contacts().stream().map(Contact::emailAddress).forEach(emails::add));
    log.debug("Customer {}: found {} recipients", customer.code(), emails.size());
    return emails;
  }

  /** The customers this aggregator knows. */
  public CustomerMapping customers() {
    return customers;
  }

  /** Calls made by every aggregation of this aggregator so far. */
  public CallStats stats() {
    return calls.stats();
  }

  @Override
  public String toString() {
    return "RecipientAggregator[" + name + ", " + customers.size() + " customers"
        + (dryRun ? ", dry run" : "") + "]";
  }

  /** Builds a {@link RecipientAggregator}. Not thread-safe. */
  public static final class Builder {
    private final AwsClients clients;
    private @Nullable CustomerMapping customers;
    private ParallelConfig config = DEFAULT_CONFIG;
    private @Nullable RetryPolicy retryPolicy;
    private @Nullable Function<ThrottleScope, RateGate> gateFactory;
    private boolean dryRun;
    private boolean includeTopicDefaults;
    private int maxPages = Pages.DEFAULT_MAX_PAGES;
    private String sessionName = "fanout-recipients";
    private ProgressListener progress = ProgressListener.logging(Duration.ofSeconds(5));
    private String name = "recipients";
    private @Nullable MeterRegistry registry;

    private Builder(AwsClients clients) {
      this.clients = Objects.requireNonNull(clients, "clients must not be null");
    }

    /** The customers. Required. */
    public Builder customers(CustomerMapping customers) {
      this.customers = Objects.requireNonNull(customers, "customers must not be null");
      return this;
    }

    /** Workers, deadline, rate spacing, retries; {@link #DEFAULT_CONFIG} unless set. */
    public Builder config(ParallelConfig config) {
      this.config = Objects.requireNonNull(config, "config must not be null");
      return this;
    }

    /** The policy each API call runs under; {@link AwsErrors#retryPolicy} of the config unless set. */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy must not be null");
      return this;
    }

    /**
     * Makes the gate of each scope; {@code RateGate.spacing(config.rateSpacing())} per scope
     * unless set.
     */
    public Builder rateGates(Function<ThrottleScope, RateGate> factory) {
      this.gateFactory = Objects.requireNonNull(factory, "factory must not be null");
      return this;
    }

    /** With {@code true}, {@code aggregate} checks its input and logs its plan but calls nothing. */
    public Builder dryRun(boolean dryRun) {
      this.dryRun = dryRun;
      return this;
    }

    /**
     * With {@code true}, contacts who never chose for the topic count when the topic's default is
     * opt-in ({@code UseDefaultIfPreferenceUnavailable}); {@code false} (explicit opt-ins only)
     * unless set.
     */
    public Builder includeTopicDefaults(boolean include) {
      this.includeTopicDefaults = include;
      return this;
    }

    /**
     * The most {@code ListContacts} pages of one customer (1,000 contacts each); 1,000 unless set.
     * A listing that still has a next token after this many pages fails that customer with an
     * {@link AwsPaginationException} naming the listing and the cap.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxPages(int maxPages) {
      this.maxPages = Pages.requireMaxPages(maxPages);
      return this;
    }

    /** The role session name used for AssumeRole; {@code fanout-recipients} unless set. */
    public Builder sessionName(String sessionName) {
      this.sessionName =
          AccountCredentials.assumeRole("x").withSessionName(sessionName).sessionName();
      return this;
    }

    /** Where progress goes; a log line every 5 s unless set. */
    public Builder progress(ProgressListener progress) {
      this.progress = Objects.requireNonNull(progress, "progress must not be null");
      return this;
    }

    /** The pool's and gates' name, for threads, logs and meters; {@code recipients} unless set. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name must not be null");
      if (name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank, was '" + name + "'");
      }
      this.name = name;
      return this;
    }

    /**
     * Publishes the {@code fanout.*} meters of the pool, the rate gates and (unless
     * {@link #retryPolicy} is set) the retry policy to {@code registry}; none unless set.
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry must not be null");
      return this;
    }

    /**
     * Builds the aggregator.
     *
     * @throws IllegalStateException if no customers were set
     */
    public RecipientAggregator build() {
      if (customers == null) {
        throw new IllegalStateException("customers not set: call customers(CustomerMapping...)");
      }
      return new RecipientAggregator(this, customers);
    }
  }
}
