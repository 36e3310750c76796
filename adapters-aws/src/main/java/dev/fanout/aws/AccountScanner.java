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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.ListClustersResponse;
import software.amazon.awssdk.services.eks.model.ResourceNotFoundException;
import software.amazon.awssdk.services.organizations.model.AccountState;
import software.amazon.awssdk.services.organizations.model.AccountStatus;
import software.amazon.awssdk.services.organizations.model.ListAccountsResponse;
import software.amazon.awssdk.services.sso.SsoClient;
import software.amazon.awssdk.services.sso.model.ListAccountRolesResponse;
import software.amazon.awssdk.services.sso.model.RoleCredentials;
import software.amazon.awssdk.services.sso.model.RoleInfo;
import software.amazon.awssdk.services.sts.model.AssumeRoleRequest;
import software.amazon.awssdk.services.sts.model.Credentials;

/**
 * Finds the EKS clusters of many AWS accounts in many regions at once, in parallel on a {@link
 * WorkerPool}.
 *
 * {@snippet file="dev/fanout/aws/snippets/AwsSnippets.java" region="scan"}
 * }
 *
 * <h2>What a scan does</h2>
 *
 * <ol>
 *   <li>Lists the accounts of its {@link AccountSource} (page by page, on the calling thread) and
 *       keeps those its {@linkplain Builder#accountFilter filter} accepts.
 *   <li>Fans out over the accounts, keyed by account id: gets each account's credentials as its
 *       {@link AccountCredentials} say. An account whose credentials fail is reported once, as a
 *       {@link ScanFailure.Stage#CREDENTIALS} failure, and its regions are not scanned.
 *   <li>Fans out over account x region, keyed by {@link AccountRegion}: EKS {@code ListClusters},
 *       page by page, then {@code DescribeCluster} for each cluster. A failure fails that
 *       account-region only. A cluster deleted between the two calls ({@code DescribeCluster}
 *       answers 404 {@code ResourceNotFoundException}) is left out and counted in
 *       {@link ScanReport#deletedClusters()}; the region's other clusters are kept.
 * </ol>
 *
 * <h2>What runs inside what</h2>
 *
 * The scan's deadline ({@link ParallelConfig#timeout()}, 5 min in the defaults) bounds both
 * fan-outs together; a task still queued or running when it passes is reported cancelled. At
 * most {@link ParallelConfig#concurrency()} tasks run at once, each under the per-task timeout if
 * one is set. Inside a task, every API call runs under the {@linkplain Builder#retryPolicy retry
 * policy}, and every attempt of it first passes the rate gate of its {@link ThrottleScope}
 * (account, region, service), then makes exactly one HTTP request (the SDK's retries are off, see
 * {@link AwsClients}). The pool itself neither retries nor gates tasks: a task is many calls, and
 * retrying a whole account-region because its fifth page was throttled would repeat four
 * successful calls.
 *
 * <p>Throttling responses become {@link AwsThrottledException}s, which the policy retries in its
 * throttling class (its own backoff and cap; normal attempts are not used up). When the policy's
 * shared {@link dev.fanout.retry.RetryBudget} is spent, calls fail at once with an
 * {@link AwsCallException} whose reason is {@code BUDGET_EXHAUSTED}.
 *
 * <p>A scanner holds no threads between scans and may run several scans, one after another or at
 * once; each scan has its own pool, but the rate gates and the retry budget are shared by all
 * scans of one scanner.
 *
 * <p>Why this class is long (~770 lines): a third is javadoc and the nested {@code Builder} with
 * its checks; the scan itself (accounts, then account x region tasks, then clusters, then the
 * optional kubeconfig merge) is one pipeline whose steps share the report being built, and reads
 * best top to bottom. Its parts with a life of their own are separate classes ({@code AwsClients},
 * {@code CallRunner}, {@code Pages}, {@code KubeconfigWriter}).
 */
public final class AccountScanner {
  private static final Logger log = LoggerFactory.getLogger(AccountScanner.class);

  private final AwsClients clients;
  private final AccountSource source;
  private final AccountCredentials credentials;
  private final List<String> regions;
  private final ParallelConfig config;
  private final CallRunner calls;
  private final Predicate<Account> accountFilter;
  private final boolean describeClusters;
  private final int maxPages;
  private final ProgressListener progress;
  private final String name;
  private final @Nullable MeterRegistry registry;
  private final boolean defaultGates;

  private AccountScanner(Builder b, AccountSource source, AccountCredentials credentials, List<String> regions) {
    this.clients = b.clients;
    this.source = source;
    this.credentials = credentials;
    this.regions = regions;
    this.config = b.config;
    this.accountFilter = b.accountFilter;
    this.describeClusters = b.describeClusters;
    this.maxPages = b.maxPages;
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
    Function<ThrottleScope, RateGate> factory;
    if (b.gateFactory != null) {
      factory = b.gateFactory;
      defaultGates = false;
    } else {
      Duration spacing = b.config.rateSpacing();
      factory = scope -> RateGate.spacing(spacing);
      defaultGates = true;
    }
    KeyedRateGates.Builder<ThrottleScope> gates = KeyedRateGates.builder(factory).name(name);
    if (registry != null) {
      gates.meterRegistry(registry);
    }
    this.calls = new CallRunner(policy, gates.build());
  }

  /** A builder scanning with {@code clients}. */
  public static Builder builder(AwsClients clients) {
    return new Builder(clients);
  }

  /** Scans, reporting progress to the builder's listener. */
  public ScanReport scan() throws InterruptedException {
    return scan(progress);
  }

  /**
   * Scans, reporting each fan-out's progress to {@code listener} (first the accounts'
   * credentials, then the account-regions).
   *
   * @throws AwsCallException if the accounts could not be listed (nothing can be scanned then)
   * @throws IllegalStateException if the source lists no account the filter accepts
   * @throws InterruptedException if interrupted; the scan's tasks are then cancelled
   */
  public ScanReport scan(ProgressListener listener) throws InterruptedException {
    Objects.requireNonNull(listener, "listener must not be null");
    long start = System.nanoTime();
    CallStats before = calls.stats();
    List<Account> accounts = listAccounts();
    if (accounts.isEmpty()) {
      throw new IllegalStateException(
          "no accounts to scan: " + describe(source) + " listed no account that the filter accepts");
    }
    log.info(
        "Starting parallel processing of {} accounts x {} regions, {} at once...",
        accounts.size(),
        regions.size(),
        config.concurrency());
    log.info(
        "Rate limit: {} per account, region and service; timeout: {}",
        defaultGates ? config.rateSpacing().toMillis() + " ms between calls" : "custom gates",
        config.timeout() == null ? "none" : config.timeout());

    List<ScanFailure> failures = new ArrayList<>();
    List<EksCluster> clusters = new ArrayList<>();
    List<EksCluster> deleted = new ArrayList<>();
    Duration deadline = config.timeout();
    try (WorkerPool pool =
        poolBuilder().build()) {
      FanOutOptions options = FanOutOptions.of(config).withProgress(listener);

      List<String> ids = accounts.stream().map(Account::id).toList();
      FanOutReport<String, AwsCredentialsProvider> access =
          pool.fanOutAndWait(ids, this::accountCredentials, options);
      Map<String, AwsCredentialsProvider> providers = new LinkedHashMap<>();
      for (String id : ids) {
        Result.Success<String, AwsCredentialsProvider> ok = access.successes().get(id);
        if (ok != null && ok.value() != null) {
          providers.put(id, ok.value());
        } else {
          Result.Failure<String, AwsCredentialsProvider> failure = access.failures().get(id);
          Throwable error =
              failure != null
                  ? failure.error()
                  : new IllegalStateException("no result for account " + id);
          failures.add(new ScanFailure(id, null, ScanFailure.Stage.CREDENTIALS, error));
          log.warn("Error in account {}: {}", id, AwsErrors.describe(error));
        }
      }

      List<AccountRegion> keys = new ArrayList<>();
      for (String id : providers.keySet()) {
        for (String region : regions) {
          keys.add(new AccountRegion(id, region));
        }
      }
      if (deadline != null) {
        Duration left = deadline.minusNanos(System.nanoTime() - start);
        options = options.withDeadline(left.isNegative() || left.isZero() ? Duration.ofNanos(1) : left);
      }
      FanOutReport<AccountRegion, RegionScan> scanned =
          pool.fanOutAndWait(keys, key -> scanRegion(key, providers.get(key.accountId())), options);
      for (AccountRegion key : keys) {
        Result.Success<AccountRegion, RegionScan> ok = scanned.successes().get(key);
        if (ok != null && ok.value() != null) {
          clusters.addAll(ok.value().clusters());
          deleted.addAll(ok.value().deleted());
        } else {
          Result.Failure<AccountRegion, RegionScan> failure = scanned.failures().get(key);
          Throwable error =
              failure != null ? failure.error() : new IllegalStateException("no result for " + key);
          failures.add(
              new ScanFailure(key.accountId(), key.region(), ScanFailure.Stage.CLUSTERS, error));
          log.warn(
              "Error in account {} region {}: {}",
              key.accountId(),
              key.region(),
              AwsErrors.describe(error));
        }
      }
    }

    Comparator<EksCluster> byLocation =
        Comparator.comparing(EksCluster::accountId)
            .thenComparing(EksCluster::region)
            .thenComparing(EksCluster::name);
    clusters.sort(byLocation);
    deleted.sort(byLocation);
    Map<String, Integer> order = new LinkedHashMap<>();
    accounts.forEach(a -> order.put(a.id(), order.size()));
    failures.sort(
        Comparator.<ScanFailure>comparingInt(f -> order.getOrDefault(f.accountId(), Integer.MAX_VALUE))
            .thenComparing(f -> f.region() == null ? "" : f.region()));
    CallStats after = calls.stats();
    ScanReport report =
        new ScanReport(
            accounts,
            regions,
            clusters,
            deleted,
            failures,
            new CallStats(
                after.calls() - before.calls(),
                after.attempts() - before.attempts(),
                after.throttles() - before.throttles()),
            Duration.ofNanos(System.nanoTime() - start));
    Set<String> failed = report.failedAccounts();
    Map<String, List<EksCluster>> byAccount = report.clustersByAccount();
    for (Account account : accounts) {
      if (!failed.contains(account.id())) {
        log.debug(
            "Account {}: {} clusters found in {} regions",
            account.id(),
            byAccount.getOrDefault(account.id(), List.of()).size(),
            regions.size());
      }
    }
    log.info(
        "Parallel processing completed: {} successful, {} errors",
        report.succeeded(),
        report.failed());
    log.info("{}", report.summary());
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

  // ---------------------------------------------------------------------------------------------
  // Accounts

  private List<Account> listAccounts() throws InterruptedException {
    List<Account> listed =
        switch (source) {
          case AccountSource.Listed listedSource -> listedSource.accounts();
          case AccountSource.Organization org -> organizationAccounts();
          case AccountSource.Sso sso -> ssoAccounts(sso);
        };
    List<Account> accepted = new ArrayList<>(listed.size());
    Set<String> seen = new LinkedHashSet<>();
    for (Account account : listed) {
      if (seen.add(account.id()) && accountFilter.test(account)) {
        accepted.add(account);
      }
    }
    return accepted;
  }

  private List<Account> organizationAccounts() throws InterruptedException {
    List<Account> accounts = new ArrayList<>();
    ThrottleScope scope =
        new ThrottleScope(ThrottleScope.CALLER, clients.organizationsRegion(), "organizations");
    Pages.forEach(
        "Organizations ListAccounts",
        maxPages,
        token ->
            calls.call(
                scope,
                "ListAccounts",
                null,
                o -> clients.organizations().listAccounts(b -> b.nextToken(token).overrideConfiguration(o))),
        ListAccountsResponse::nextToken,
        page -> {
          for (software.amazon.awssdk.services.organizations.model.Account a : page.accounts()) {
            boolean active =
                a.state() != null && a.state() != AccountState.UNKNOWN_TO_SDK_VERSION
                    ? a.state() == AccountState.ACTIVE
                    : a.status() == AccountStatus.ACTIVE;
            if (active) {
              accounts.add(new Account(a.id(), a.name(), a.email()));
            } else {
              log.debug(
                  "Skipping account {} ({}): not ACTIVE",
                  a.id(),
                  a.stateAsString() != null ? a.stateAsString() : a.statusAsString());
            }
          }
        });
    return accounts;
  }

  private List<Account> ssoAccounts(AccountSource.Sso sso) throws InterruptedException {
    List<Account> accounts = new ArrayList<>();
    ThrottleScope scope = new ThrottleScope(ThrottleScope.CALLER, sso.region(), "sso");
    SsoClient client = clients.sso(sso.region());
    Pages.forEach(
        "SSO ListAccounts",
        maxPages,
        token ->
            calls.call(
                scope,
                "ListAccounts",
                null,
                o ->
                    client.listAccounts(
                        b ->
                            b.accessToken(sso.token().reveal())
                                .nextToken(token)
                                .overrideConfiguration(o))),
        software.amazon.awssdk.services.sso.model.ListAccountsResponse::nextToken,
        page ->
            page.accountList()
                .forEach(
                    a -> accounts.add(new Account(a.accountId(), a.accountName(), a.emailAddress()))));
    return accounts;
  }

  private static String describe(AccountSource source) {
    return switch (source) {
      case AccountSource.Listed listed -> "the given list";
      case AccountSource.Organization org -> "Organizations ListAccounts";
      case AccountSource.Sso sso -> "SSO ListAccounts";
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Credentials

  private AwsCredentialsProvider accountCredentials(String accountId) throws InterruptedException {
    log.debug("Getting credentials for account: {}", accountId);
    return switch (credentials) {
      case AccountCredentials.Caller caller -> clients.credentials();
      case AccountCredentials.AssumeRole assume -> assumeRole(accountId, assume);
      case AccountCredentials.Sso sso -> ssoRole(accountId, sso);
    };
  }

  private AwsCredentialsProvider assumeRole(String accountId, AccountCredentials.AssumeRole assume)
      throws InterruptedException {
    String roleArn = assume.roleArn(accountId);
    // AssumeRole counts against the caller's account, not the role's.
    ThrottleScope scope = new ThrottleScope(ThrottleScope.CALLER, assume.stsRegion(), "sts");
    AssumeRoleRequest request =
        AssumeRoleRequest.builder()
            .roleArn(roleArn)
            .roleSessionName(assume.sessionName())
            .externalId(assume.externalId())
            .durationSeconds((int) assume.duration().toSeconds())
            .build();
    return new RefreshingCredentials(
            "account " + accountId + " role " + assume.roleName(),
            () -> {
              Credentials c =
                  calls.call(
                      scope,
                      "AssumeRole",
                      null,
                      o ->
                          clients
                              .sts(assume.stsRegion())
                              .assumeRole(request.toBuilder().overrideConfiguration(o).build())
                              .credentials());
              return AwsSessionCredentials.builder()
                  .accessKeyId(c.accessKeyId())
                  .secretAccessKey(c.secretAccessKey())
                  .sessionToken(c.sessionToken())
                  .expirationTime(c.expiration())
                  .accountId(accountId)
                  .build();
            })
        .prime();
  }

  private AwsCredentialsProvider ssoRole(String accountId, AccountCredentials.Sso sso)
      throws InterruptedException {
    SsoClient client = clients.sso(sso.region());
    // The portal API counts a user's calls, whichever account they are about.
    ThrottleScope scope = new ThrottleScope(ThrottleScope.CALLER, sso.region(), "sso");
    List<String> roles = new ArrayList<>();
    Pages.forEach(
        "SSO ListAccountRoles of account " + accountId,
        maxPages,
        token ->
            calls.call(
                scope,
                "ListAccountRoles",
                null,
                o ->
                    client.listAccountRoles(
                        b ->
                            b.accessToken(sso.token().reveal())
                                .accountId(accountId)
                                .nextToken(token)
                                .overrideConfiguration(o))),
        ListAccountRolesResponse::nextToken,
        page -> page.roleList().stream().map(RoleInfo::roleName).forEach(roles::add));
    String role = chooseRole(accountId, roles, sso.roleNames());
    log.debug("Account {}: {} roles found, using {}", accountId, roles.size(), role);
    return new RefreshingCredentials(
            "account " + accountId + " SSO role " + role,
            () -> {
              RoleCredentials c =
                  calls.call(
                      scope,
                      "GetRoleCredentials",
                      null,
                      o ->
                          client
                              .getRoleCredentials(
                                  b ->
                                      b.accessToken(sso.token().reveal())
                                          .accountId(accountId)
                                          .roleName(role)
                                          .overrideConfiguration(o))
                              .roleCredentials());
              AwsSessionCredentials.Builder built =
                  AwsSessionCredentials.builder()
                      .accessKeyId(c.accessKeyId())
                      .secretAccessKey(c.secretAccessKey())
                      .sessionToken(c.sessionToken())
                      .accountId(accountId);
              if (c.expiration() != null && c.expiration() > 0) {
                built.expirationTime(Instant.ofEpochMilli(c.expiration()));
              }
              return built.build();
            })
        .prime();
  }

  static String chooseRole(String accountId, List<String> available, List<String> preferred) {
    if (preferred.isEmpty()) {
      if (available.size() == 1) {
        return available.getFirst();
      }
      throw new IllegalStateException(
          "account "
              + accountId
              + " has "
              + (available.isEmpty() ? "no SSO role for this user" : available.size() + " SSO roles " + available)
              + "; name the one to use with AccountCredentials.sso(token, region, roleNames...)");
    }
    for (String name : preferred) {
      if (available.contains(name)) {
        return name;
      }
    }
    throw new IllegalStateException(
        "account " + accountId + " has none of the SSO roles " + preferred + "; it has " + available);
  }

  // ---------------------------------------------------------------------------------------------
  // Clusters

  /**
   * What one account-region's task found: the clusters, and those listed but gone (404) by the
   * time they were described.
   */
  private record RegionScan(List<EksCluster> clusters, List<EksCluster> deleted) {}

  private RegionScan scanRegion(AccountRegion key, @Nullable AwsCredentialsProvider provider)
      throws InterruptedException {
    AwsCredentialsProvider creds = Objects.requireNonNull(provider, "credentials of " + key);
    String account = key.accountId();
    String region = key.region();
    log.debug("Searching EKS clusters in account {} region {}", account, region);
    EksClient eks = clients.eks(region);
    ThrottleScope scope = new ThrottleScope(account, region, "eks");
    List<String> names = new ArrayList<>();
    Pages.forEach(
        "EKS ListClusters in " + key,
        maxPages,
        token ->
            calls.call(
                scope,
                "ListClusters",
                creds,
                o -> eks.listClusters(b -> b.nextToken(token).overrideConfiguration(o))),
        ListClustersResponse::nextToken,
        page -> names.addAll(page.clusters()));
    List<EksCluster> clusters = new ArrayList<>(names.size());
    List<EksCluster> deleted = new ArrayList<>();
    for (String clusterName : names) {
      if (!describeClusters) {
        clusters.add(EksCluster.named(account, region, clusterName));
        continue;
      }
      Cluster c;
      try {
        c =
            calls.call(
                scope,
                "DescribeCluster",
                creds,
                o ->
                    eks.describeCluster(b -> b.name(clusterName).overrideConfiguration(o))
                        .cluster());
      } catch (AwsCallException e) {
        if (e.getCause() instanceof ResourceNotFoundException) {
          // Deleted after ListClusters listed it: gone, not a failure of the account-region.
          log.debug("Account {} region {}: cluster {} was deleted during the scan", account, region, clusterName);
          deleted.add(EksCluster.named(account, region, clusterName));
          continue;
        }
        throw e;
      }
      clusters.add(
          new EksCluster(
              account,
              region,
              c.name() != null ? c.name() : clusterName,
              c.arn(),
              c.endpoint(),
              c.certificateAuthority() == null ? null : c.certificateAuthority().data(),
              c.version(),
              c.statusAsString()));
    }
    log.debug("Account {} region {}: {} clusters found", account, region, clusters.size());
    return new RegionScan(List.copyOf(clusters), List.copyOf(deleted));
  }

  /** Calls made by every scan of this scanner so far. */
  public CallStats stats() {
    return calls.stats();
  }

  /** The regions each account is scanned in. */
  public List<String> regions() {
    return regions;
  }

  /** The scanner's config. */
  public ParallelConfig config() {
    return config;
  }

  @Override
  public String toString() {
    return "AccountScanner[" + name + ", " + describe(source) + ", " + regions + "]";
  }

  /** Builds an {@link AccountScanner}. Not thread-safe. */
  public static final class Builder {
    private final AwsClients clients;
    private @Nullable AccountSource source;
    private @Nullable AccountCredentials credentials;
    private @Nullable List<String> regions;
    private ParallelConfig config = ParallelConfig.defaults();
    private @Nullable RetryPolicy retryPolicy;
    private @Nullable Function<ThrottleScope, RateGate> gateFactory;
    private Predicate<Account> accountFilter = account -> true;
    private boolean describeClusters = true;
    private int maxPages = Pages.DEFAULT_MAX_PAGES;
    private ProgressListener progress = ProgressListener.logging(Duration.ofSeconds(5));
    private String name = "aws-scan";
    private @Nullable MeterRegistry registry;

    private Builder(AwsClients clients) {
      this.clients = Objects.requireNonNull(clients, "clients must not be null");
    }

    /** Where the accounts come from. Required. */
    public Builder accounts(AccountSource source) {
      this.source = Objects.requireNonNull(source, "source must not be null");
      return this;
    }

    /** How each account's credentials are obtained. Required. */
    public Builder credentials(AccountCredentials credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials must not be null");
      return this;
    }

    /**
     * The regions to scan in every account. Required.
     *
     * @throws IllegalArgumentException if empty, a region is unknown, or one appears twice
     */
    public Builder regions(Collection<String> regions) {
      Objects.requireNonNull(regions, "regions must not be null");
      if (regions.isEmpty()) {
        throw new IllegalArgumentException("regions must not be empty");
      }
      List<String> checked = new ArrayList<>(regions.size());
      int index = 0;
      for (String region : regions) {
        String field = "regions[" + index + "]";
        Regions.requireKnown(field, region);
        if (checked.contains(region)) {
          throw new IllegalArgumentException(
              "regions must be distinct, but " + region + " appears twice (" + field + ")");
        }
        checked.add(region);
        index++;
      }
      this.regions = List.copyOf(checked);
      return this;
    }

    /** As {@link #regions(Collection)}. */
    public Builder regions(String... regions) {
      return regions(List.of(regions));
    }

    /**
     * Workers, deadline, per-task timeout, rate spacing and retries; {@link
     * ParallelConfig#defaults()} (10 workers, 5 min, 100 ms, 3 retries) unless set. The rate
     * spacing applies per {@link ThrottleScope}, unless {@link #rateGates} is set; the retries
     * to each call, unless {@link #retryPolicy} is set.
     */
    public Builder config(ParallelConfig config) {
      this.config = Objects.requireNonNull(config, "config must not be null");
      return this;
    }

    /**
     * The policy each API call runs under; {@link AwsErrors#retryPolicy(ParallelConfig)} of the
     * config unless set. Throttling arrives as {@link AwsThrottledException}, a
     * {@link dev.fanout.retry.ThrottledException}, so any policy treats it as throttling.
     */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy must not be null");
      return this;
    }

    /**
     * Makes the gate of each scope (see {@link KeyedRateGates} for what the factory may return);
     * unless set, {@code RateGate.spacing(config.rateSpacing())} for every scope.
     *
     * {@snippet :
     * builder.rateGates(scope -> switch (scope.service()) {
     *   case "eks" -> RateGate.perSecond(10, 5);
     *   default -> RateGate.perSecond(5, 1);
     * });
     * }
     */
    public Builder rateGates(Function<ThrottleScope, RateGate> factory) {
      this.gateFactory = Objects.requireNonNull(factory, "factory must not be null");
      return this;
    }

    /** Which listed accounts to scan; all unless set. */
    public Builder accountFilter(Predicate<Account> filter) {
      this.accountFilter = Objects.requireNonNull(filter, "filter must not be null");
      return this;
    }

    /**
     * Whether each cluster found is described (endpoint, CA, version, status: what a kubeconfig
     * needs); {@code true} unless set. Without, a scan makes one call per page only.
     */
    public Builder describeClusters(boolean describe) {
      this.describeClusters = describe;
      return this;
    }

    /**
     * The most pages one listing may have (Organizations or SSO {@code ListAccounts}, SSO
     * {@code ListAccountRoles}, EKS {@code ListClusters} of one account-region); 1,000 unless
     * set. A listing that still has a next token after this many pages fails with an {@link
     * AwsPaginationException} naming the listing and the cap, instead of running until the
     * scan's deadline: a service that hands out fresh tokens forever is broken, not big.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxPages(int maxPages) {
      this.maxPages = Pages.requireMaxPages(maxPages);
      return this;
    }

    /** The listener {@link #scan()} reports to; a log line every 5 s unless set. */
    public Builder progress(ProgressListener progress) {
      this.progress = Objects.requireNonNull(progress, "progress must not be null");
      return this;
    }

    /** The name of the scan's pool and gates, for threads, logs and meters; {@code aws-scan}. */
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
     * Builds the scanner.
     *
     * @throws IllegalStateException if the accounts, credentials or regions were not set
     */
    public AccountScanner build() {
      if (source == null) {
        throw new IllegalStateException(
            "accounts not set: call accounts(AccountSource.organization() / sso(..) / of(..))");
      }
      if (credentials == null) {
        throw new IllegalStateException(
            "credentials not set: call credentials(AccountCredentials.assumeRole(..) / sso(..) / caller())");
      }
      if (regions == null) {
        throw new IllegalStateException("regions not set: call regions(\"eu-west-1\", ...)");
      }
      return new AccountScanner(this, source, credentials, regions);
    }
  }
}
