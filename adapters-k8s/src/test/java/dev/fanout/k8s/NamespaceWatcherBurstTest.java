package dev.fanout.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * 200 namespaces created in a burst; a fifth of them deleted while being created. Every survivor
 * is provisioned exactly once, every deleted one is cancelled and cleaned up exactly once, and
 * nothing is left running.
 */
@EnableKubernetesMockClient(crud = true)
class NamespaceWatcherBurstTest {
  static final List<String> CREATION_STEPS =
      List.of(
          "certificate",
          "dns-record",
          "sqs-queues",
          "sns-topics",
          "kong-routes",
          "zadig-workflows");

  KubernetesClient client;

  @ParameterizedTest(name = "cleanup finalizer: {0}")
  @ValueSource(booleans = {false, true})
  void twoHundredNamespacesWithAFifthDeletedWhileBeingCreated(boolean finalizer) throws Exception {
    WatcherFixture cluster = new WatcherFixture(client);
    StepRecorder creation = new StepRecorder("creation");
    StepRecorder cleanup = new StepRecorder("cleanup");
    TrackingThreadFactory threads = new TrackingThreadFactory();
    List<String> names = IntStream.range(0, 200).mapToObj(i -> "tenant-%03d".formatted(i)).toList();
    Set<String> doomed = new HashSet<>();
    for (int i = 0; i < names.size(); i += 5) {
      doomed.add(names.get(i));
    }
    // A doomed namespace's queues never finish, so its deletion surely finds it being created.
    BlockingQueue<String> hanging = new LinkedBlockingQueue<>();
    StepAction quick = creation.sleeping(Duration.ofMillis(20));
    ProvisioningPlan plan =
        ProvisioningPlan.builder("tenant", "1")
            .step("certificate", quick)
            .step("dns-record", quick, "certificate")
            .step(
                "sqs-queues",
                creation.sleepingOrHanging(Duration.ofMillis(30), doomed::contains, hanging))
            .step("sns-topics", quick)
            .step("kong-routes", quick)
            .step("zadig-workflows", quick)
            .build();
    StepAction remove = cleanup.sleeping(Duration.ofMillis(10));
    ProvisioningPlan deletion =
        ProvisioningPlan.builder("tenant-cleanup", "1")
            .step("dns-record", remove)
            .step("certificate", remove, "dns-record")
            .step("sqs-queues", remove)
            .step("sns-topics", remove)
            .step("kong-routes", remove)
            .step("zadig-workflows", remove)
            .build();
    NamespaceWatcher watcher =
        NamespaceWatcher.builder(client)
            .creationPlan(plan)
            .deletionPlan(deletion)
            .maxConcurrentNamespaces(64)
            .cleanupFinalizer(finalizer)
            .threadFactory(threads)
            .listener(cluster.listener)
            .build();
    watcher.start();
    await().until(() -> watcher.status().synced());

    long start = System.nanoTime();
    List<Thread> creators =
        IntStream.range(0, 4)
            .mapToObj(
                part ->
                    Thread.ofVirtual()
                        .start(
                            () ->
                                names.stream()
                                    .skip(part)
                                    .filter(n -> names.indexOf(n) % 4 == part)
                                    .forEach(cluster::create)))
            .toList();
    for (int deleted = 0; deleted < doomed.size(); deleted++) {
      String name = hanging.poll(60, TimeUnit.SECONDS);
      assertThat(name).as("a doomed namespace being created").isNotNull();
      cluster.delete(name);
    }
    for (Thread creator : creators) {
      creator.join();
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              WatcherStatus s = watcher.status();
              return s.provisioned() == 160
                  && s.deleted() == 40
                  && s.inFlight() == 0
                  && doomed.stream().allMatch(name -> cluster.get(name) == null);
            });
    long elapsed = System.nanoTime() - start;
    watcher.close();
    System.out.printf(
        "200 namespaces (40 deleted while being created), cleanup finalizer %s: all settled in %.2f"
            + " s%n",
        finalizer, elapsed / 1e9);

    WatcherStatus status = watcher.status();
    assertThat(status.provisioned()).isEqualTo(160);
    assertThat(status.cancelled()).isEqualTo(40);
    assertThat(status.failed()).isZero();
    assertThat(status.deleted()).isEqualTo(40);
    assertThat(status.deletionFailed()).isZero();
    for (String name : names) {
      if (doomed.contains(name)) {
        assertThat(creation.starts(name, "sqs-queues")).as(name).isEqualTo(1);
        assertThat(cluster.onlyReport(PlanPhase.CREATION, name).status())
            .as(name)
            .isEqualTo(PlanStatus.CANCELLED);
        assertThat(cluster.onlyReport(PlanPhase.CREATION, name).step("sqs-queues").status())
            .isEqualTo(StepStatus.CANCELLED);
        assertThat(cluster.onlyReport(PlanPhase.DELETION, name).status())
            .as(name)
            .isEqualTo(PlanStatus.SUCCEEDED);
        for (String step : CREATION_STEPS) {
          assertThat(creation.starts(name, step)).as(name + " " + step).isLessThanOrEqualTo(1);
          assertThat(cleanup.starts(name, step)).as(name + " cleanup " + step).isEqualTo(1);
        }
        assertThat(cluster.get(name)).isNull();
      } else {
        for (String step : CREATION_STEPS) {
          assertThat(creation.starts(name, step)).as(name + " " + step).isEqualTo(1);
          assertThat(cleanup.starts(name, step)).as(name + " cleanup " + step).isZero();
        }
        assertThat(cluster.onlyReport(PlanPhase.CREATION, name).status())
            .isEqualTo(PlanStatus.SUCCEEDED);
        assertThat(cluster.annotation(name, "provisioning.fanout.dev/tenant"))
            .as(name)
            .isEqualTo("1");
        assertThat(cluster.get(name).getMetadata().getFinalizers())
            .as(name)
            .isEqualTo(finalizer ? List.of("provisioning.fanout.dev/tenant") : List.of());
      }
    }
    // Every doomed namespace's queues step was interrupted (its other steps may have been too, if
    // they were still running), and nothing of a surviving namespace was.
    for (String name : doomed) {
      assertThat(creation.of(name))
          .filteredOn(e -> e.step().equals("sqs-queues"))
          .singleElement()
          .extracting(StepRecorder.Execution::outcome)
          .isEqualTo("interrupted");
    }
    assertThat(creation.executions)
        .filteredOn(e -> e.outcome().equals("interrupted"))
        .allSatisfy(e -> assertThat(doomed).contains(e.namespace()));
    assertThat(creation.running).as("no step left running").hasValue(0);
    assertThat(cleanup.running).hasValue(0);
    assertThat(threads.alive()).as("no thread of the watcher left").isEmpty();
  }
}
