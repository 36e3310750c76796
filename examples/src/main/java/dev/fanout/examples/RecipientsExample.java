package dev.fanout.examples;

import static dev.fanout.examples.ExampleArgs.flag;
import static dev.fanout.examples.ExampleArgs.has;
import static dev.fanout.examples.ExampleArgs.seconds;

import dev.fanout.ProgressListener;
import dev.fanout.aws.AwsClients;
import dev.fanout.aws.CustomerMapping;
import dev.fanout.aws.RecipientAggregator;
import dev.fanout.aws.RecipientReport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;

/**
 * The recipients of a topic across customer accounts: per customer, assume its role and list the
 * contacts of its SES contact list that opted in to the topic; then de-duplicate without regard
 * to letter case. Runs once with one worker (one customer after another) and once with
 * {@link RecipientAggregator#DEFAULT_CONFIG} (30 at once), and prints the summary line
 * ({@code N unique recipients from M customers (S successful, E errors)}) and both times.
 *
 * <p>By default against an embedded fake AWS (WireMock on 127.0.0.1): 30 generated customers,
 * each answering in about 200 ms (one AssumeRole and two ListContacts pages), the one in the
 * middle refusing its role. Arguments (all optional): {@code customers=30 latencyMs=200}.
 *
 * <p>Against real AWS:
 *
 * <pre>
 * recipients --profile ses-admin --customers customers.yaml [--topic aws-calendar] [--dry-run] [--no-sequential]
 * </pre>
 */
public final class RecipientsExample {
  private RecipientsExample() {}

  public static void main(String[] args) throws Exception {
    String profile = flag(args, "--profile");
    String topic = flag(args, "--topic") == null ? "aws-calendar" : flag(args, "--topic");
    boolean dryRun = has(args, "--dry-run");

    EmbeddedAws aws = null;
    AwsClients clients;
    CustomerMapping customers;
    if (profile == null) {
      int count = ExampleArgs.number(args, "customers", 30);
      Duration perCustomer = Duration.ofMillis(ExampleArgs.number(args, "latencyMs", 200));
      aws = new EmbeddedAws(perCustomer.dividedBy(3)); // three calls per customer
      customers = CustomerMapping.of(aws.customers(count));
      clients = aws.clients();
      System.out.printf(
          "Embedded fake AWS on 127.0.0.1: %d customers, about %d ms each%n", count, perCustomer.toMillis());
    } else {
      String file = flag(args, "--customers");
      if (file == null) {
        throw new IllegalArgumentException("--customers FILE is required with --profile");
      }
      customers = CustomerMapping.load(Path.of(file));
      clients = AwsClients.builder().credentialsProvider(ProfileCredentialsProvider.create(profile)).build();
      System.out.printf("Real AWS, profile '%s', %d customers%n", profile, customers.size());
    }

    try {
      RecipientAggregator.Builder aggregator =
          RecipientAggregator.builder(clients)
              .customers(customers)
              .dryRun(dryRun)
              .progress(ProgressListener.logging(Duration.ofMillis(500)));

      RecipientReport sequential = null;
      if (!dryRun && !has(args, "--no-sequential")) {
        System.out.println();
        System.out.println("--- sequential: 1 worker ---");
        sequential =
            aggregator.name("recipients-sequential")
                .config(RecipientAggregator.DEFAULT_CONFIG.toBuilder().concurrency(1).build())
                .build()
                .aggregate(topic);
        System.out.println("sequential: " + sequential.summary());
      }

      System.out.println();
      System.out.println("--- parallel: RecipientAggregator.DEFAULT_CONFIG (30 workers) ---");
      RecipientReport parallel =
          aggregator.name("recipients").config(RecipientAggregator.DEFAULT_CONFIG).build().aggregate(topic);
      System.out.println("parallel:   " + parallel.summary());
      parallel.errors().forEach((code, error) -> System.out.println("  " + code + ": " + error.getMessage()));

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
