package dev.fanout.k8s;

import static dev.fanout.k8s.FaultyApiServer.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The watcher's own API calls under injected faults, with the real fabric8 client (its default
 * retry settings) against the mock API server.
 */
class NamespaceWatcherFaultTest {
  static final String KEY = "provisioning.fanout.dev/tenant";
  static final String NS_PATH = "/api/v1/namespaces/test101";

  final FaultyApiServer server = new FaultyApiServer();
  final KubernetesClient client = server.client("user");
  final WatcherFixture cluster = new WatcherFixture(client);
  final StepRecorder recorder = new StepRecorder();
  final Queue<String> pending = new ConcurrentLinkedQueue<>();
  /** What the status and the listener showed while the mark was pending. */
  final Queue<String> whilePending = new ConcurrentLinkedQueue<>();
  final AtomicReference<NamespaceWatcher> current = new AtomicReference<>();
  final PlanListener listener =
      new PlanListener() {
        @Override
        public void onPlanFinished(PlanPhase phase, PlanReport report) {
          cluster.listener.onPlanFinished(phase, report);
        }

        @Override
        public void onMarkPending(PlanReport report, Throwable error) {
          pending.add(report.namespace() + ": " + error.getMessage());
          WatcherStatus status = current.get().status();
          whilePending.add(
              "markPending="
                  + status.markPending()
                  + " provisioned="
                  + status.provisioned()
                  + " reports="
                  + cluster.reports(PlanPhase.CREATION, report.namespace()).size()
                  + " succeeded="
                  + report.succeeded());
        }
      };

  @AfterEach
  void close() {
    server.close();
  }

  NamespaceWatcher watcher() {
    return watcher(client);
  }

  NamespaceWatcher watcher(KubernetesClient client) {
    ProvisioningPlan creation =
        ProvisioningPlan.builder("tenant", "1")
            .step("certificate", recorder.sleeping(Duration.ofMillis(10)))
            .step("dns-record", recorder.sleeping(Duration.ofMillis(10)), "certificate")
            .build();
    ProvisioningPlan deletion =
        ProvisioningPlan.builder("tenant-cleanup", "1")
            .step("certificate", recorder.sleeping(Duration.ofMillis(10)))
            .build();
    NamespaceWatcher watcher =
        NamespaceWatcher.builder(client)
            .creationPlan(creation)
            .deletionPlan(deletion)
            .listener(listener)
            .build();
    current.set(watcher);
    return watcher;
  }

  @Test
  void aMarkRefusedWithAConflictIsRetriedUntilRecordedAndARestartDoesNotRunThePlanAgain() {
    server.fail(request("PATCH", NS_PATH), 409, 2);
    try (NamespaceWatcher watcher = watcher()) {
      watcher.start();
      await().until(() -> watcher.status().synced());
      cluster.create("test101");

      await().atMost(Duration.ofSeconds(20)).until(() -> "1".equals(cluster.annotation("test101", KEY)));
      await().until(() -> watcher.status().provisioned() == 1);
      assertThat(pending).singleElement().asString().startsWith("test101: ");
      assertThat(whilePending).containsExactly("markPending=1 provisioned=0 reports=0 succeeded=true");
      assertThat(watcher.status().markPending()).isZero();
      assertThat(cluster.onlyReport(PlanPhase.CREATION, "test101").succeeded()).isTrue();
      assertThat(server.count("PATCH", NS_PATH)).as("two conflicts, then recorded").isEqualTo(3);
    }
    assertThat(recorder.starts("test101", "certificate")).isEqualTo(1);

    try (NamespaceWatcher restarted = watcher()) {
      restarted.start();
      await().until(() -> restarted.status().alreadyProvisioned() == 1);
      assertThat(restarted.status().provisioned()).isZero();
    }
    assertThat(recorder.starts("test101", "certificate")).as("never run again").isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(ints = {500, 503})
  void aMarkFailingPastItsRetriesIsReportedPendingUntilRecorded(int status) {
    // 3 attempts per try: the first try and the next two fail, the fourth records the mark.
    server.fail(request("PATCH", NS_PATH), status, 9);
    try (NamespaceWatcher watcher = watcher()) {
      watcher.start();
      await().until(() -> watcher.status().synced());
      cluster.create("test101");

      await().atMost(Duration.ofSeconds(30)).until(() -> watcher.status().provisioned() == 1);
      assertThat(watcher.status().markPending()).isZero();
      assertThat(cluster.annotation("test101", KEY)).isEqualTo("1");
      assertThat(pending).hasSize(1);
      assertThat(whilePending)
          .as("succeeded, mark pending: not yet provisioned nor reported finished")
          .containsExactly("markPending=1 provisioned=0 reports=0 succeeded=true");
      assertThat(server.count("PATCH", NS_PATH)).isEqualTo(10);
      assertThat(recorder.starts("test101", "certificate")).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {500, 429})
  void aFinalizerEditThatFailsTwiceIsRetriedByTheWatchersOwnRetryAndLands(int status) {
    // The finalizer edits are JSON patches (a JSON array); the completion mark is a merge patch.
    FaultyApiServer.Fault fault =
        server.fail(
            request("PATCH", NS_PATH).and(r -> FaultyApiServer.bodyOf(r).trim().startsWith("[")),
            status,
            2);
    NamespaceWatcher watcher =
        NamespaceWatcher.builder(client)
            .creationPlan(
                ProvisioningPlan.builder("tenant", "1")
                    .step("certificate", recorder.sleeping(Duration.ofMillis(10)))
                    .build())
            .deletionPlan(
                ProvisioningPlan.builder("tenant-cleanup", "1")
                    .step("certificate", recorder.sleeping(Duration.ofMillis(10)))
                    .build())
            .cleanupFinalizer(true)
            .build();
    current.set(watcher);
    try (watcher) {
      watcher.start();
      await().until(() -> watcher.status().synced());
      cluster.create("test101");

      await().atMost(Duration.ofSeconds(20)).until(() -> watcher.status().provisioned() == 1);
      assertThat(fault.hits.get()).as("both injected failures were met").isEqualTo(2);
      assertThat(cluster.get("test101").getMetadata().getFinalizers()).containsExactly(KEY);
      assertThat(cluster.annotation("test101", KEY)).isEqualTo("1");
      assertThat(recorder.starts("test101", "certificate")).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {500, 429})
  void anInformerListThatFailsTwiceIsRetriedAndTheWatcherSyncsAndProvisions(int status) {
    // The informer's list is the user's client's (fabric8's own retries): it syncs in the end.
    FaultyApiServer.Fault fault = server.fail(request("GET", "/api/v1/namespaces?"), status, 2);
    try (NamespaceWatcher watcher = watcher()) {
      watcher.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> watcher.status().synced());
      assertThat(fault.hits.get()).as("both injected failures were met").isEqualTo(2);
      cluster.create("test101");
      await().atMost(Duration.ofSeconds(20)).until(() -> watcher.status().provisioned() == 1);
      assertThat(recorder.starts("test101", "certificate")).isEqualTo(1);
    }
  }

  @Test
  void anInformerListSlowerThanTheRequestTimeoutIsRetriedAndTheWatcherSyncsAndProvisions() {
    // The user's client gives up on a request after 1 s; the first two lists answer after 3 s.
    KubernetesClient impatient = server.client("impatient", null, Duration.ofSeconds(1));
    FaultyApiServer.Fault slow =
        server.slow(request("GET", "/api/v1/namespaces?"), Duration.ofSeconds(3), 2);
    try (NamespaceWatcher watcher = watcher(impatient)) {
      watcher.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> watcher.status().synced());
      assertThat(slow.hits.get()).as("both slow lists were met").isEqualTo(2);
      cluster.create("test101");
      await().atMost(Duration.ofSeconds(20)).until(() -> watcher.status().provisioned() == 1);
      assertThat(recorder.starts("test101", "certificate")).isEqualTo(1);
    }
  }

  @Test
  void anInformerListRefusedAsForbiddenIsNotTriedAgainAndTheWatcherNeverSyncs() {
    // A missing RBAC rule does not heal by itself: the watcher says so once and does not sync.
    FaultyApiServer.Fault forbidden = server.fail(request("GET", "/api/v1/namespaces?"), 403, -1);
    try (NamespaceWatcher watcher = watcher()) {
      watcher.start();
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(3))
          .until(() -> !watcher.status().synced());
      assertThat(forbidden.hits.get()).as("listed once, not again").isEqualTo(1);
    }
  }

  @Test
  void aPersistentServerErrorFailsACallAfterTheWatchersOwnThreeAttemptsOnly() {
    try (NamespaceWatcher watcher = watcher()) {
      watcher.start();
      await().until(() -> watcher.status().synced());
      cluster.create("test101");
      await().until(() -> watcher.status().provisioned() == 1);
      // Confirming the deletion (a GET) always fails: the watcher trusts the delete event.
      server.fail(request("GET", NS_PATH), 500, -1);
      long before = server.count("GET", NS_PATH);
      long start = System.nanoTime();
      cluster.delete("test101");

      await().atMost(Duration.ofSeconds(20)).until(() -> watcher.status().deleted() == 1);
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      assertThat(server.count("GET", NS_PATH) - before)
          .as("one retry layer: the watcher's 3 attempts, no retries inside each")
          .isEqualTo(3);
      assertThat(took).isLessThan(Duration.ofSeconds(10));
    }
  }

  @Test
  void throttlingIsRetriedAndItsRetryAfterHintHonoured() {
    try (NamespaceWatcher watcher = watcher()) {
      watcher.start();
      await().until(() -> watcher.status().synced());
      cluster.create("test101");
      await().until(() -> watcher.status().provisioned() == 1);
      server.fail(request("GET", NS_PATH), 429, 1, 2); // "retry after 1 s", twice
      long before = server.count("GET", NS_PATH);
      cluster.delete("test101");

      await().atMost(Duration.ofSeconds(20)).until(() -> watcher.status().deleted() == 1);
      List<Long> times =
          server.seen.stream()
              .filter(s -> s.method().equals("GET") && s.path().startsWith(NS_PATH))
              .map(FaultyApiServer.Seen::nanos)
              .skip(before)
              .toList();
      assertThat(times).as("two throttled, then the answer (404: gone)").hasSize(3);
      assertThat(Duration.ofNanos(times.get(1) - times.get(0)))
          .isGreaterThanOrEqualTo(Duration.ofMillis(990));
      assertThat(Duration.ofNanos(times.get(2) - times.get(1)))
          .isGreaterThanOrEqualTo(Duration.ofMillis(990));
    }
  }

  @Test
  void throttlingWithoutAHintIsRetriedWithBackoff() {
    try (NamespaceWatcher watcher = watcher()) {
      watcher.start();
      await().until(() -> watcher.status().synced());
      cluster.create("test101");
      await().until(() -> watcher.status().provisioned() == 1);
      server.fail(request("GET", NS_PATH), 429, 2);
      long before = server.count("GET", NS_PATH);
      cluster.delete("test101");

      await().atMost(Duration.ofSeconds(20)).until(() -> watcher.status().deleted() == 1);
      assertThat(server.count("GET", NS_PATH) - before).isEqualTo(3);
      assertThat(recorder.starts("test101", "certificate")).as("creation + clean-up").isEqualTo(2);
    }
  }
}
