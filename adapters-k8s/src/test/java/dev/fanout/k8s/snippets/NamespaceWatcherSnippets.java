package dev.fanout.k8s.snippets;

import dev.fanout.k8s.NamespaceWatcher;
import dev.fanout.k8s.ProvisioningPlan;
import dev.fanout.k8s.StepContext;
import dev.fanout.retry.RetryPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The usage examples of {@link NamespaceWatcher} and {@link ProvisioningPlan}'s javadoc, which
 * shows the regions marked here ({@code {@snippet file=... region=...}}). Compiled with the tests,
 * so a guide cannot drift from the API; never run.
 */
final class NamespaceWatcherSnippets {
  private NamespaceWatcherSnippets() {}

  /** Stand-ins for the clients a user's steps call. */
  interface Acm {
    void requestCertificate(StepContext context) throws Exception;

    void deleteCertificate(StepContext context) throws Exception;
  }

  interface Sqs {
    void createQueues(StepContext context) throws Exception;

    void deleteQueues(StepContext context) throws Exception;
  }

  interface Sns {
    void createTopics(StepContext context) throws Exception;
  }

  interface Kong {
    void createRoutes(StepContext context) throws Exception;
  }

  interface Zadig {
    void createWorkflows(StepContext context) throws Exception;
  }

  interface Route53 {
    void upsertRecord(StepContext context) throws Exception;

    void deleteRecord(StepContext context) throws Exception;
  }

  static void watch(KubernetesClient client, Acm acm, Sqs sqs, Route53 route53)
      throws InterruptedException {
    // @start region="watch"
    ProvisioningPlan creation = ProvisioningPlan.builder("tenant", "1")
        .step("certificate", acm::requestCertificate)
        .step("sqs-queues", sqs::createQueues)
        .step("dns-record", route53::upsertRecord, "certificate")
        .build();
    ProvisioningPlan deletion = ProvisioningPlan.builder("tenant-cleanup", "1")
        .step("dns-record", route53::deleteRecord)
        .step("certificate", acm::deleteCertificate, "dns-record")
        .step("sqs-queues", sqs::deleteQueues)
        .build();

    try (NamespaceWatcher watcher = NamespaceWatcher.builder(client)
            .labelSelector("fanout.dev/provision=true")
            .creationPlan(creation)
            .deletionPlan(deletion)
            .maxConcurrentNamespaces(16)
            .build()) {
      watcher.start();
      awaitShutdownSignal();
    } // stops the informer, drains in-flight work up to the shutdown timeout, then cancels
    // @end
  }

  static ProvisioningPlan plan(Acm acm, Sqs sqs, Sns sns, Kong kong, Zadig zadig, Route53 route53) {
    // @start region="plan"
    ProvisioningPlan creation = ProvisioningPlan.builder("tenant", "1")
        .step("certificate", acm::requestCertificate)
        .step("sqs-queues", sqs::createQueues)
        .step("sns-topics", sns::createTopics)
        .step("kong-routes", kong::createRoutes)
        .step("zadig-workflows", zadig::createWorkflows)
        .step("dns-record", route53::upsertRecord, "certificate") // after the certificate
        .defaultRetry(RetryPolicy.builder().maxAttempts(3).build())
        .build();
    // @end
    return creation;
  }

  private static void awaitShutdownSignal() throws InterruptedException {
    Thread.currentThread().join();
  }
}
