package dev.fanout.aws;

import java.net.URI;
import java.time.Duration;
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
 * <p>Thread-safe. Calls after {@link #close()} throw {@link IllegalStateException}.
 */
public final class AwsClients implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AwsClients.class);

  private final AwsCredentialsProvider credentials;
  private final boolean ownsCredentials;
  private final SdkHttpClient http;
  private final boolean ownsHttp;
  private final @Nullable URI endpointOverride;
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
    return client("eks", region, () -> configure(EksClient.builder(), region, credentials));
  }

  /** The STS client for {@code region} (regional endpoint). */
  public StsClient sts(String region) {
    return client("sts", region, () -> configure(StsClient.builder(), region, credentials));
  }

  /**
   * The IAM Identity Center (SSO) portal client for {@code region}. Its calls are authorised by
   * the SSO access token each request carries, so it signs nothing.
   */
  public SsoClient sso(String region) {
    return client(
        "sso",
        region,
        () -> configure(SsoClient.builder(), region, AnonymousCredentialsProvider.create()));
  }

  /** The Organizations client (a global service, called in {@code us-east-1} unless set). */
  public OrganizationsClient organizations() {
    String region = organizationsRegion.id();
    return client(
        "organizations",
        region,
        () -> configure(OrganizationsClient.builder(), region, credentials));
  }

  /** The SES v2 client for {@code region}. */
  public SesV2Client sesV2(String region) {
    return client("sesv2", region, () -> configure(SesV2Client.builder(), region, credentials));
  }

  @SuppressWarnings("unchecked")
  private <C extends SdkClient> C client(String service, String region, Supplier<C> factory) {
    Objects.requireNonNull(region, "region must not be null");
    ensureOpen();
    C client = (C) clients.computeIfAbsent(service + "/" + region, key -> factory.get());
    if (closed.get()) {
      // Lost a race with close(): make sure this client does not outlive it.
      client.close();
      ensureOpen();
    }
    return client;
  }

  private <B extends AwsClientBuilder<B, C> & AwsSyncClientBuilder<B, C>, C> C configure(
      B builder, String region, AwsCredentialsProvider provider) {
    builder
        .httpClient(http)
        .region(Region.of(region))
        .credentialsProvider(provider)
        .overrideConfiguration(
            o ->
                o.retryStrategy(AwsRetryStrategy.doNotRetry())
                    .addExecutionInterceptor(GateInterceptor.INSTANCE));
    if (endpointOverride != null) {
      builder.endpointOverride(endpointOverride);
    }
    return builder.build();
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
        + "]";
  }

  /** Builds {@link AwsClients}. Not thread-safe. */
  public static final class Builder {
    private @Nullable AwsCredentialsProvider credentials;
    private @Nullable SdkHttpClient httpClient;
    private @Nullable URI endpointOverride;
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
     * Sends every service's calls to this endpoint instead of AWS: for tests and local fakes.
     *
     * @throws IllegalArgumentException if it is not an absolute http or https URI
     */
    public Builder endpointOverride(URI endpoint) {
      Objects.requireNonNull(endpoint, "endpoint must not be null");
      String scheme = endpoint.getScheme();
      if (!"http".equals(scheme) && !"https".equals(scheme)) {
        throw new IllegalArgumentException(
            "endpoint must be an absolute http or https URI, was '" + endpoint + "'");
      }
      this.endpointOverride = endpoint;
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
