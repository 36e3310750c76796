package dev.fanout.aws;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.core.SdkPlugin;
import software.amazon.awssdk.core.SdkServiceClientConfiguration;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.organizations.OrganizationsClient;
import software.amazon.awssdk.services.sesv2.SesV2Client;
import software.amazon.awssdk.services.sso.SsoClient;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * The AWS SDK v2 clients fanout's scans use: one per service and region, made on first use,
 * shared by every account (per-account credentials travel with each request), all on one HTTP
 * client, and closed together. {@link AccountScanner} and {@link RecipientAggregator} take one.
 *
 * {@snippet :
 * try (AwsClients clients = AwsClients.builder()
 *         .credentialsProvider(ProfileCredentialsProvider.create("management"))
 *         .build()) {
 *   ScanReport report = AccountScanner.builder(clients)
 *       .accounts(AccountSource.organization())
 *       .credentials(AccountCredentials.assumeRole("OrganizationAccountAccessRole"))
 *       .regions("eu-west-1", "us-east-1")
 *       .build()
 *       .scan();
 * }
 * }
 *
 * <h2>The SDK's retries are off</h2>
 *
 * Every client is built with {@link AwsRetryStrategy#doNotRetry()}: the SDK makes exactly one
 * attempt per call and fanout's {@link dev.fanout.retry.RetryPolicy} decides about the next. Left
 * on, the SDK's standard strategy (3 attempts) would run inside the policy's (4 attempts): up to
 * 12 requests per call, the extra ones bypassing the rate gate, and throttling would be retried by
 * two budgets that do not know of each other. With one layer, each attempt passes its
 * {@link ThrottleScope}'s gate and throttling is counted once, in the policy's throttling class.
 *
 * <h2>Rate gates</h2>
 *
 * Every client passes each request's rate gate (set by {@link AccountScanner} and
 * {@link RecipientAggregator} for the request's {@link ThrottleScope}) after credentials, endpoint
 * and marshalling and just before signing and sending, so the gate spaces requests as AWS
 * receives them. A request made directly on these clients, without a gate, passes freely.
 *
 * <h2>HTTP client</h2>
 *
 * By default the SDK's Apache-based client (its automatic retries disabled by the SDK, its idle
 * connection reaper thread off, so closing leaves no thread behind), with the connect and read
 * timeouts of the builder. The JDK-based url-connection client was not chosen because
 * {@code HttpURLConnection} silently sends a GET again after a connection reset: a hidden second
 * attempt that neither the gate nor the policy sees. A given {@link Builder#httpClient} is used
 * as it is and not closed.
 *
 * <h2>Extending the clients</h2>
 *
 * {@link Builder#endpointOverride(AwsService, URI)} sends one service's calls elsewhere (a VPC or
 * FIPS endpoint, a fake); {@link Builder#endpointOverride(URI)} all services' calls.
 * {@link Builder#customizeClients(Customizer)} adjusts each SDK client builder: interceptors,
 * headers, metric publishers, timeouts, credentials. The customiser cannot undo what the two
 * sections above promise: the HTTP client, the region, the SDK's retries (off) and the gate's
 * interceptor (present, last) are set again after it, and again after any plugin it adds.
 *
 * <p>Thread-safe. Calls after {@link #close()} throw {@link IllegalStateException}.
 */
public final class AwsClients implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AwsClients.class);

  private final AwsCredentialsProvider credentials;
  private final boolean ownsCredentials;
  private final SdkHttpClient http;
  private final boolean ownsHttp;
  private final @Nullable URI endpointOverride;
  private final Map<AwsService, URI> endpoints;
  private final List<Customizer> customizers;
  private final Region organizationsRegion;
  private final ConcurrentMap<String, SdkClient> clients = new ConcurrentHashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  private AwsClients(Builder b) {
    if (b.credentials != null) {
      this.credentials = b.credentials;
      this.ownsCredentials = false;
    } else {
      this.credentials = DefaultCredentialsProvider.builder().build();
      this.ownsCredentials = true;
    }
    if (b.httpClient != null) {
      this.http = b.httpClient;
      this.ownsHttp = false;
    } else {
      this.http =
          ApacheHttpClient.builder()
              .connectionTimeout(b.connectTimeout)
              .socketTimeout(b.readTimeout)
              .maxConnections(b.maxConnections)
              .useIdleConnectionReaper(false)
              .build();
      this.ownsHttp = true;
    }
    this.endpointOverride = b.endpointOverride;
    this.endpoints = Map.copyOf(b.endpoints);
    this.customizers = List.copyOf(b.customizers);
    this.organizationsRegion = Region.of(b.organizationsRegion);
  }

  /** Clients with the SDK's default credentials chain and the default timeouts. */
  public static AwsClients create() {
    return builder().build();
  }

  /** A builder; every setting is optional. */
  public static Builder builder() {
    return new Builder();
  }

  /** The caller's own credentials: what calls are signed with unless a request says otherwise. */
  public AwsCredentialsProvider credentials() {
    return credentials;
  }

  /** The region Organizations is called in. */
  public String organizationsRegion() {
    return organizationsRegion.id();
  }

  /** The EKS client for {@code region}. */
  public EksClient eks(String region) {
    return client(AwsService.EKS, region, () -> configure(AwsService.EKS, EksClient.builder(), region, credentials));
  }

  /** The STS client for {@code region} (regional endpoint). */
  public StsClient sts(String region) {
    return client(AwsService.STS, region, () -> configure(AwsService.STS, StsClient.builder(), region, credentials));
  }

  /**
   * The IAM Identity Center (SSO) portal client for {@code region}. Its calls are authorised by
   * the SSO access token each request carries, so it signs nothing.
   */
  public SsoClient sso(String region) {
    return client(
        AwsService.SSO,
        region,
        () ->
            configure(
                AwsService.SSO, SsoClient.builder(), region, AnonymousCredentialsProvider.create()));
  }

  /** The Organizations client (a global service, called in {@code us-east-1} unless set). */
  public OrganizationsClient organizations() {
    String region = organizationsRegion.id();
    return client(
        AwsService.ORGANIZATIONS,
        region,
        () -> configure(AwsService.ORGANIZATIONS, OrganizationsClient.builder(), region, credentials));
  }

  /** The SES v2 client for {@code region}. */
  public SesV2Client sesV2(String region) {
    return client(
        AwsService.SES_V2,
        region,
        () -> configure(AwsService.SES_V2, SesV2Client.builder(), region, credentials));
  }

  @SuppressWarnings("unchecked")
  private <C extends SdkClient> C client(AwsService service, String region, Supplier<C> factory) {
    Objects.requireNonNull(region, "region must not be null");
    ensureOpen();
    C client = (C) clients.computeIfAbsent(service.id() + "/" + region, key -> factory.get());
    if (closed.get()) {
      // Lost a race with close(): make sure this client does not outlive it.
      client.close();
      ensureOpen();
    }
    return client;
  }

  private <B extends AwsClientBuilder<B, C> & AwsSyncClientBuilder<B, C>, C> C configure(
      AwsService service, B builder, String region, AwsCredentialsProvider provider) {
    builder.credentialsProvider(provider);
    URI endpoint = endpoints.getOrDefault(service, endpointOverride);
    if (endpoint != null) {
      builder.endpointOverride(endpoint);
    }
    for (Customizer customizer : customizers) {
      customizer.customize(service, region, builder);
    }
    // What fanout's guarantees rest on, set after the customisers so that none can undo it.
    builder
        .httpClient(http)
        .region(Region.of(region))
        .overrideConfiguration(withFanoutSettings(builder.overrideConfiguration()))
        .addPlugin(FanoutSettingsPlugin.INSTANCE); // after any plugin a customiser added
    return builder.build();
  }

  /**
   * {@code config} with the SDK's retries off and the gate interceptor last: the user's
   * interceptors, and everything else, as they were.
   */
  static ClientOverrideConfiguration withFanoutSettings(ClientOverrideConfiguration config) {
    List<ExecutionInterceptor> interceptors = new ArrayList<>(config.executionInterceptors());
    interceptors.remove(GateInterceptor.INSTANCE);
    interceptors.add(GateInterceptor.INSTANCE);
    // retryStrategy(..) also clears a legacy retry policy, a retry mode and a configurator, each
    // of which would bring the SDK's retries back.
    return config.toBuilder()
        .retryStrategy(AwsRetryStrategy.doNotRetry())
        .executionInterceptors(interceptors)
        .build();
  }

  /** Re-applies fanout's settings after every other plugin of a client has run. */
  private static final class FanoutSettingsPlugin implements SdkPlugin {
    static final FanoutSettingsPlugin INSTANCE = new FanoutSettingsPlugin();

    @Override
    public void configureClient(SdkServiceClientConfiguration.Builder config) {
      config.overrideConfiguration(withFanoutSettings(config.overrideConfiguration()));
    }
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("AwsClients is closed");
    }
  }

  /** Closes every client made, the HTTP client and credentials provider if made here. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    for (SdkClient client : clients.values()) {
      closeQuietly(client);
    }
    clients.clear();
    if (ownsHttp) {
      closeQuietly(http);
    }
    if (ownsCredentials && credentials instanceof AutoCloseable closeable) {
      closeQuietly(closeable);
    }
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      log.warn("closing {} failed", closeable.getClass().getSimpleName(), e);
    }
  }

  @Override
  public String toString() {
    return "AwsClients[clients="
        + clients.keySet()
        + (endpointOverride == null ? "" : ", endpoint=" + endpointOverride)
        + (endpoints.isEmpty() ? "" : ", endpoints=" + endpoints)
        + "]";
  }

  /**
   * Adjusts one SDK client's builder before it is built; see
   * {@link Builder#customizeClients(Customizer)}.
   *
   * <p>The customiser sees the builder with the credentials provider and endpoint already set,
   * and may change them and anything else. Four settings carry fanout's guarantees and are set
   * again after every customiser, overriding what it set: the HTTP client (so that one attempt is
   * one request), the region (the one asked for), the SDK's retry strategy (off: a retry mode,
   * legacy retry policy or strategy set here is replaced by {@link AwsRetryStrategy#doNotRetry()},
   * so the SDK never sends a request the rate gate and the retry policy do not see) and the rate
   * gate's {@link ExecutionInterceptor}, which stays in the interceptor list, last, even if the
   * customiser replaced the list. The same is applied once more after any
   * {@link software.amazon.awssdk.core.SdkPlugin} the customiser added, as the client's last
   * plugin. The customiser's own interceptors run before the gate's, so a request is gated as it
   * leaves, after they changed it.
   */
  @FunctionalInterface
  public interface Customizer {
    /**
     * Adjusts {@code builder}, the builder of {@code service}'s client for {@code region}; cast
     * it to the service's builder ({@code EksClientBuilder}, ...) for service-specific settings.
     */
    void customize(AwsService service, String region, AwsClientBuilder<?, ?> builder);
  }

  /** Builds {@link AwsClients}. Not thread-safe. */
  public static final class Builder {
    private @Nullable AwsCredentialsProvider credentials;
    private @Nullable SdkHttpClient httpClient;
    private @Nullable URI endpointOverride;
    private final Map<AwsService, URI> endpoints = new EnumMap<>(AwsService.class);
    private final List<Customizer> customizers = new ArrayList<>();
    private Duration connectTimeout = Duration.ofSeconds(5);
    private Duration readTimeout = Duration.ofSeconds(30);
    private int maxConnections = 64;
    private String organizationsRegion = "us-east-1";

    private Builder() {}

    /**
     * The caller's credentials (the management account for Organizations, the identity that
     * assumes roles); the SDK's default chain (environment, profile, container, instance) unless
     * set.
     */
    public Builder credentialsProvider(AwsCredentialsProvider credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials must not be null");
      return this;
    }

    /**
     * Sends every service's calls to this endpoint instead of AWS, except those of a service given
     * its own {@linkplain #endpointOverride(AwsService, URI) endpoint}: for tests and local fakes.
     *
     * @throws IllegalArgumentException if it is not an absolute http or https URI
     */
    public Builder endpointOverride(URI endpoint) {
      this.endpointOverride = requireHttp("endpoint", endpoint);
      return this;
    }

    /**
     * Sends {@code service}'s calls to this endpoint instead of AWS (a VPC endpoint, a FIPS or
     * proxy endpoint, a local fake of one service). Wins over {@link #endpointOverride(URI)}.
     *
     * @throws IllegalArgumentException if it is not an absolute http or https URI
     */
    public Builder endpointOverride(AwsService service, URI endpoint) {
      Objects.requireNonNull(service, "service must not be null");
      endpoints.put(service, requireHttp("endpoint of " + service, endpoint));
      return this;
    }

    private static URI requireHttp(String field, URI endpoint) {
      Objects.requireNonNull(endpoint, field + " must not be null");
      String scheme = endpoint.getScheme();
      if (!"http".equals(scheme) && !"https".equals(scheme)) {
        throw new IllegalArgumentException(
            field + " must be an absolute http or https URI, was '" + endpoint + "'");
      }
      return endpoint;
    }

    /**
     * Adjusts every SDK client before it is built: interceptors, headers, metric publishers,
     * timeouts, endpoint, credentials, plugins. Customisers run in the order added, once per
     * client (service and region), on the thread that first asks for it. Some settings are
     * fanout's and are set again after every customiser (and its plugins); see
     * {@link Customizer}.
     *
     * {@snippet :
     * AwsClients clients = AwsClients.builder()
     *     .customizeClients((service, region, builder) ->
     *         builder.overrideConfiguration(o -> o
     *             .addExecutionInterceptor(new TracingInterceptor())
     *             .apiCallAttemptTimeout(Duration.ofSeconds(10))))
     *     .build();
     * }
     */
    public Builder customizeClients(Customizer customizer) {
      customizers.add(Objects.requireNonNull(customizer, "customizer must not be null"));
      return this;
    }

    /** The HTTP client every SDK client uses; not closed by {@link AwsClients#close()}. */
    public Builder httpClient(SdkHttpClient httpClient) {
      this.httpClient = Objects.requireNonNull(httpClient, "httpClient must not be null");
      return this;
    }

    /** How long to wait for a connection; 5 s unless set. Ignored with {@link #httpClient}. */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = requirePositive("connectTimeout", connectTimeout);
      return this;
    }

    /**
     * How long to wait for response data before the attempt fails with a retryable timeout;
     * 30 s unless set. Ignored with {@link #httpClient}.
     */
    public Builder readTimeout(Duration readTimeout) {
      this.readTimeout = requirePositive("readTimeout", readTimeout);
      return this;
    }

    /** Most open connections (all services together); 64 unless set. */
    public Builder maxConnections(int maxConnections) {
      if (maxConnections < 1) {
        throw new IllegalArgumentException(
            "maxConnections must be at least 1, was " + maxConnections);
      }
      this.maxConnections = maxConnections;
      return this;
    }

    /** Where Organizations is called; {@code us-east-1} (the aws partition) unless set. */
    public Builder organizationsRegion(String region) {
      this.organizationsRegion = Regions.requireKnown("organizationsRegion", region);
      return this;
    }

    private static Duration requirePositive(String field, Duration value) {
      Objects.requireNonNull(value, field + " must not be null");
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(field + " must be positive, was " + value);
      }
      return value;
    }

    /** Builds the clients; no SDK client is made until first asked for. */
    public AwsClients build() {
      return new AwsClients(this);
    }
  }
}
