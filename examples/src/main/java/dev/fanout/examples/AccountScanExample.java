package dev.fanout.examples;

import static dev.fanout.examples.ExampleArgs.flag;
import static dev.fanout.examples.ExampleArgs.has;
import static dev.fanout.examples.ExampleArgs.seconds;

import dev.fanout.ParallelConfig;
import dev.fanout.ProgressListener;
import dev.fanout.aws.AccountCredentials;
import dev.fanout.aws.AccountScanner;
import dev.fanout.aws.AccountSource;
import dev.fanout.aws.AwsClients;
import dev.fanout.aws.KubeconfigUpdate;
import dev.fanout.aws.KubeconfigWriter;
import dev.fanout.aws.ScanFailure;
import dev.fanout.aws.ScanReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;

/**
 * The multi-account EKS scan: lists the accounts of an organization, assumes a role in each,
 * finds the EKS clusters of every account in every region, and writes kubeconfig entries for
 * them. The scan runs twice, with one worker (one account-region after another)
 * and with {@link ParallelConfig#defaults()} (10 workers, 100 ms between calls per
 * account, region and service, 5 min timeout, 3 retries); both times and the summaries are
 * printed.
 *
 * <p>By default it runs against an embedded fake AWS (WireMock on 127.0.0.1) with generated
 * accounts and clusters: one account's role cannot be assumed, one region is throttled twice.
 * Arguments (all optional): {@code accounts=10 latencyMs=25}.
 *
 * <p>Against real AWS (read-only calls; nothing is written unless {@code --kubeconfig} is given):
 *
 * <pre>
 * account-scan --profile management --regions eu-west-1,us-east-1
 *     [--role OrganizationAccountAccessRole] [--accounts 111111111111,222222222222]
 *     [--kubeconfig ~/.kube/config] [--no-sequential]
 * </pre>
 */
public final class AccountScanExample {
  private AccountScanExample() {}

  public static void main(String[] args) throws Exception {
    String profile = flag(args, "--profile");
    boolean fake = profile == null;
    List<String> regions =
        ExampleArgs.list(args, "--regions", fake ? EmbeddedAws.REGIONS : List.of("us-east-1"));
    String role = flag(args, "--role");
    AccountSource source =
        has(args, "--accounts")
            ? AccountSource.of(ExampleArgs.list(args, "--accounts", List.of()))
            : AccountSource.organization();
    String kubeconfig = flag(args, "--kubeconfig");

    EmbeddedAws aws = null;
    AwsClients clients;
    if (fake) {
      int accounts = ExampleArgs.number(args, "accounts", 10);
      Duration latency = Duration.ofMillis(ExampleArgs.number(args, "latencyMs", 25));
      aws = new EmbeddedAws(latency);
      int clusters = aws.organization(accounts, regions);
      clients = aws.clients();
      System.out.printf(
          "Embedded fake AWS on 127.0.0.1: %d accounts x %d regions, %d clusters, %d ms per response%n",
          accounts, regions.size(), clusters, latency.toMillis());
    } else {
      clients = AwsClients.builder().credentialsProvider(ProfileCredentialsProvider.create(profile)).build();
      System.out.printf("Real AWS, profile '%s', regions %s%n", profile, regions);
    }

    try {
      AccountScanner.Builder scanner =
          AccountScanner.builder(clients)
              .accounts(source)
              .credentials(AccountCredentials.assumeRole(role == null ? "OrganizationAccountAccessRole" : role))
              .regions(regions)
              .progress(ProgressListener.logging(Duration.ofMillis(500)));

      ScanReport sequential = null;
      if (!has(args, "--no-sequential")) {
        System.out.println();
        System.out.println("--- sequential: 1 worker ---");
        sequential =
            scanner.name("scan-sequential")
                .config(ParallelConfig.defaults().toBuilder().concurrency(1).build())
                .build()
                .scan();
        System.out.println("sequential: " + sequential.summary());
        if (aws != null) {
          aws.resetScenarios(); // the same throttling storm for the parallel run
        }
      }

      System.out.println();
      System.out.println("--- parallel: ParallelConfig.defaults() ---");
      ScanReport parallel = scanner.name("scan").config(ParallelConfig.defaults()).build().scan();
      System.out.println("parallel:   " + parallel.summary());
      for (ScanFailure failure : parallel.failures()) {
        System.out.println("  " + failure.message());
      }
      System.out.printf(
          "  calls %d, HTTP requests %d, throttled %d%n",
          parallel.stats().calls(), parallel.stats().attempts(), parallel.stats().throttles());

      Path target = kubeconfig != null ? Path.of(kubeconfig.replaceFirst("^~", System.getProperty("user.home"))) : null;
      if (target == null && fake) {
        target = Files.createTempDirectory("fanout-kube").resolve("config");
      }
      if (target != null) {
        KubeconfigUpdate update = KubeconfigWriter.builder(target).build().write(parallel.clusters());
        System.out.println("kubeconfig " + update.path() + ": " + update.summary());
      }

      if (sequential != null) {
        System.out.printf(
            Locale.ROOT,
            "sequential %.2f s, parallel %.2f s: %.1fx faster%n",
            seconds(sequential.elapsed()),
            seconds(parallel.elapsed()),
            seconds(sequential.elapsed()) / Math.max(1e-9, seconds(parallel.elapsed())));
      }
    } finally {
      clients.close();
      if (aws != null) {
        aws.close();
      }
    }
  }
}
