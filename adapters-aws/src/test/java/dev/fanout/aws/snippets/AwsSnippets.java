package dev.fanout.aws.snippets;

import dev.fanout.aws.AccountCredentials;
import dev.fanout.aws.AccountScanner;
import dev.fanout.aws.AccountSource;
import dev.fanout.aws.AwsClients;
import dev.fanout.aws.CustomerMapping;
import dev.fanout.aws.KubeconfigWriter;
import dev.fanout.aws.RecipientAggregator;
import dev.fanout.aws.RecipientReport;
import dev.fanout.aws.ScanReport;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The usage examples of {@link AccountScanner} and {@link RecipientAggregator}'s javadoc, which
 * shows the regions marked here ({@code {@snippet file=... region=...}}). Compiled with the tests,
 * so a guide cannot drift from the API; never run.
 */
final class AwsSnippets {
  private static final Logger log = LoggerFactory.getLogger(AwsSnippets.class);

  private AwsSnippets() {}

  static void scan() throws IOException, InterruptedException {
    // @start region="scan"
    try (AwsClients clients = AwsClients.create()) {
      AccountScanner scanner = AccountScanner.builder(clients)
          .accounts(AccountSource.organization())
          .credentials(AccountCredentials.assumeRole("OrganizationAccountAccessRole"))
          .regions("eu-west-1", "eu-central-1", "us-east-1")
          .build();
      ScanReport report = scanner.scan();
      log.info(report.summary()); // 37 clusters in 10 accounts x 3 regions (...): 9 successful, 1 errors in 4.2 s
      KubeconfigWriter.builder(Path.of(System.getProperty("user.home"), ".kube", "config"))
          .build()
          .write(report.clusters());
    }
    // @end
  }

  static void aggregate() throws IOException, InterruptedException {
    // @start region="aggregate"
    try (AwsClients clients = AwsClients.create()) {
      RecipientAggregator aggregator = RecipientAggregator.builder(clients)
          .customers(CustomerMapping.load(Path.of("customers.yaml")))
          .build();
      RecipientReport report = aggregator.aggregate("aws-calendar");
      log.info(report.summary()); // 150 unique recipients from 5 customers (4 successful, 1 errors)
      report.errors().forEach((code, error) -> log.warn("{}: {}", code, error.getMessage()));
    }
    // @end
  }
}
