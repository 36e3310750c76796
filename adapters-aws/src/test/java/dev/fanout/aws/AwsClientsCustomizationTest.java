package dev.fanout.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import dev.fanout.rate.RateGate;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.SdkHttpRequest;

/** Per-service endpoints and client customisers, and what a customiser cannot undo. */
class AwsClientsCustomizationTest {
  static final String A = FakeAws.account(1);
  static final String HEADER = "x-customised";

  FakeAws aws;
  FakeAws eksOnly;

  @BeforeEach
  void start() {
    aws = new FakeAws();
    eksOnly = new FakeAws();
  }

  @AfterEach
  void stop() {
    aws.close();
    eksOnly.close();
  }

  AwsClients.Builder clients() {
    return AwsClients.builder()
        .endpointOverride(aws.endpoint())
        .credentialsProvider(
            StaticCredentialsProvider.create(
                AwsBasicCredentials.create(FakeAws.CALLER_KEY, FakeAws.CALLER_SECRET)))
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(FakeAws.READ_TIMEOUT);
  }

  AccountScanner.Builder scanner(AwsClients clients) {
    return AccountScanner.builder(clients)
        .accounts(AccountSource.of(A))
        .credentials(AccountCredentials.assumeRole("OrganizationAccountAccessRole"))
        .regions("eu-west-1")
        .config(TestPolicies.CONFIG);
  }

  @Test
  void eachServiceCanHaveItsOwnEndpoint() throws Exception {
    aws.assumeRole(A);
    eksOnly.eksClusters(A, "eu-west-1", List.of(List.of("x")));
    try (AwsClients clients = clients().endpointOverride(AwsService.EKS, eksOnly.endpoint()).build()) {
      ScanReport report = scanner(clients).retryPolicy(TestPolicies.fast(0)).build().scan();
      assertThat(report.failures()).isEmpty();
      assertThat(report.clusters()).extracting(EksCluster::name).containsExactly("x");
    }
    assertThat(aws.count("AssumeRole")).isEqualTo(1);
    assertThat(aws.count("ListClusters") + aws.count("DescribeCluster")).isZero();
    assertThat(eksOnly.count("ListClusters")).isEqualTo(1);
    assertThat(eksOnly.count("DescribeCluster")).isEqualTo(1);
    assertThat(eksOnly.count("AssumeRole")).isZero();
  }

  @Test
  void endpointsAreChecked() {
    assertThatThrownBy(() -> AwsClients.builder().endpointOverride(AwsService.STS, URI.create("sts.local")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("endpoint of STS must be an absolute http or https URI, was 'sts.local'");
  }

  /** Adds a header to every request, so the server can tell that the interceptor ran. */
  static final class HeaderInterceptor implements ExecutionInterceptor {
    @Override
    public SdkHttpRequest modifyHttpRequest(
        Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
      return context.httpRequest().toBuilder().putHeader(HEADER, "yes").build();
    }
  }

  /** Ways a customiser could try to bring the SDK's retries back and drop the gate. */
  enum Attempt {
    /** Replaces the override configuration: standard retry strategy, its own interceptors only. */
    RETRY_STRATEGY {
      @Override
      void apply(software.amazon.awssdk.awscore.client.builder.AwsClientBuilder<?, ?> b) {
        b.overrideConfiguration(
            ClientOverrideConfiguration.builder()
                .retryStrategy(RetryMode.STANDARD)
                .executionInterceptors(List.of(new HeaderInterceptor()))
                .build());
      }
    },
    /** The same with the legacy retry policy. */
    LEGACY_RETRY_POLICY {
      @Override
      void apply(software.amazon.awssdk.awscore.client.builder.AwsClientBuilder<?, ?> b) {
        b.overrideConfiguration(
            ClientOverrideConfiguration.builder()
                .retryPolicy(RetryMode.STANDARD)
                .executionInterceptors(List.of(new HeaderInterceptor()))
                .build());
      }
    },
    /**
     * The same from a plugin, which runs when the client is built: there the list also holds
     * the SDK's own interceptors, so it drops only the gate's.
     */
    PLUGIN {
      @Override
      void apply(software.amazon.awssdk.awscore.client.builder.AwsClientBuilder<?, ?> b) {
        b.addPlugin(
            config -> {
              ClientOverrideConfiguration current = config.overrideConfiguration();
              List<ExecutionInterceptor> interceptors = new ArrayList<>(current.executionInterceptors());
              assertThat(interceptors.removeIf(i -> i instanceof GateInterceptor)).isTrue();
              interceptors.add(new HeaderInterceptor());
              config.overrideConfiguration(
                  current.toBuilder()
                      .retryStrategy(RetryMode.STANDARD)
                      .executionInterceptors(interceptors)
                      .build());
            });
      }
    };

    abstract void apply(software.amazon.awssdk.awscore.client.builder.AwsClientBuilder<?, ?> b);
  }

  @ParameterizedTest
  @EnumSource(Attempt.class)
  void aCustomiserAddsInterceptorsButCannotTurnSdkRetriesOnOrDropTheGate(Attempt attempt)
      throws Exception {
    aws.assumeRole(A);
    aws.alwaysFail(aws.listClustersRequest(A, "eu-west-1", null), FakeAws.serverError());
    List<String> customised = new CopyOnWriteArrayList<>();
    // Every gate records each permit it grants in one shared timer.
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Function<ThrottleScope, RateGate> gates =
        scope -> RateGate.builder().perSecond(1_000_000, 1_000).name("test").meterRegistry(registry).build();

    ScanReport report;
    try (AwsClients clients =
        clients()
            .customizeClients((service, region, b) -> customised.add(service.id() + "/" + region))
            .customizeClients((service, region, b) -> attempt.apply(b))
            .build()) {
      report = scanner(clients).retryPolicy(TestPolicies.fast(1)).rateGates(gates).build().scan();
    }

    assertThat(customised).containsExactlyInAnyOrder("sts/us-east-1", "eks/eu-west-1");
    assertThat(report.failures()).hasSize(1);
    AwsCallException failed = (AwsCallException) report.failures().getFirst().error();
    assertThat(failed.attempts()).isEqualTo(2);
    // One attempt, one request: the SDK's standard strategy would have sent 3 per attempt.
    assertThat(aws.count("ListClusters")).isEqualTo(2);
    assertThat(aws.count("AssumeRole")).isEqualTo(1);
    // Every request passed the gate, and carried the customiser's header.
    assertThat(registry.get("fanout.rate.wait").timer().count()).isEqualTo(3);
    assertThat(aws.server.getAllServeEvents())
        .extracting(ServeEvent::getRequest)
        .allSatisfy(r -> assertThat(r.getHeader(HEADER)).isEqualTo("yes"));
  }
}
