package dev.fanout.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fanout.testing.faults.FaultProxy;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Connections between the real fabric8 client and the mock API server reset by a fault-injecting
 * proxy in the middle of the watcher's calls: the completion mark (before the request reaches the
 * server, and after the server applied it but before its answer came back), the finalizer edit,
 * the check that a deleted namespace is gone, and a Lease renewal.
 */
class NamespaceWatcherConnectionResetTest {
  static final String KEY = "provisioning.fanout.dev/tenant";
  static final String MARK = "PATCH /api/v1/namespaces/test101";

  final FaultyApiServer server = new FaultyApiServer();
  final FaultProxy proxy;
  final KubernetesClient client;
  final WatcherFixture cluster;
  final StepRecorder recorder = new StepRecorder();

  NamespaceWatcherConnectionResetTest() {
    URI api = server.address();
    proxy = FaultProxy.start(api.getHost(), api.getPort());
    client = server.client("user", "http://" + proxy.host() + ":" + proxy.port());
    // The fixture reaches the server directly: only the watcher's own calls cross the proxy.
    cluster = new WatcherFixture(server.client("fixture"));
  }

  @AfterEach
  void close() {
    proxy.close();
    server.close();
  }

  NamespaceWatcher watcher() {
    return builder().build();
  }

  NamespaceWatcher.Builder builder() {
    return NamespaceWatcher.builder(client)
        .creationPlan(
            ProvisioningPlan.builder("tenant", "1")
                .step("certificate", recorder.sleeping(Duration.ofMillis(10)))
                .build())
        .deletionPlan(
            ProvisioningPlan.builder("tenant-cleanup", "1")
                .step("certificate", recorder.sleeping(Duration.ofMillis(10)))
                .build());
  }

  /** The GETs of {@code path} the watcher's client made, as the server saw them. */
  long watcherGets(String path) {
    return server.seen.stream()
        .filter(s -> s.method().equals("GET") && s.path().equals(path))
        .filter(s -> "user".equals(s.userAgent()))
        .count();
  }

  @Test
  void aDeletionCheckWhoseConnectionIsResetIsSentAgainAndTheDeletionPlanRunsOnce() {
    try (NamespaceWatcher watcher = watcher()) {
      watcher.start();
      await().until(() -> watcher.status().synced());
      cluster.create("test101");
      await().atMost(Duration.ofSeconds(20)).until(() -> watcher.status().provisioned() == 1);
      long getsBefore = watcherGets("/api/v1/namespaces/test101");

      FaultProxy.Trigger held = proxy.holdNext("GET /api/v1/namespaces/test101 ");
      cluster.delete("test101");
      await().atMost(Duration.ofSeconds(20)).until(held::fired);
      proxy.resetAll();

      await().atMost(Duration.ofSeconds(30)).until(() -> watcher.status().deleted() == 1);
      // The held check never arrived; the one that confirmed the deletion is its retry.
      assertThat(watcherGets("/api/v1/namespaces/test101")).isEqualTo(getsBefore + 1);
      assertThat(watcher.status().deletionFailed()).isZero();
    }
    assertThat(recorder.starts("test101", "certificate")).as("creation and clean-up").isEqualTo(2);
  }

  @Test
  void aFinalizerEditWhoseConnectionIsResetIsSentAgainAndLandsOnce() {
    String finalizer = KEY;
    FaultProxy.Trigger held = proxy.holdNext("/metadata/finalizers");
    try (NamespaceWatcher watcher = builder().cleanupFinalizer(true).build()) {
      watcher.start();
      await().until(() -> watcher.status().synced());
      cluster.create("test101");

      await().atMost(Duration.ofSeconds(20)).until(held::fired);
      assertThat(cluster.get("test101").getMetadata().getFinalizers())
          .as("not arrived yet")
          .doesNotContain(finalizer);
      assertThat(recorder.starts("test101", "certificate"))
          .as("nothing is created before the finalizer is in place")
          .isZero();
      proxy.resetAll();

      await().atMost(Duration.ofSeconds(30)).until(() -> watcher.status().provisioned() == 1);
      assertThat(cluster.get("test101").getMetadata().getFinalizers())
          .containsOnlyOnce(finalizer);
    }
    assertThat(recorder.starts("test101", "certificate")).isEqualTo(1);
  }

  @Test
  void aLeaseRenewalWhoseConnectionIsResetLeavesTheLeaderLeadingAndItsStepRunning() {
    String lease = "lease-reset";
    try (NamespaceWatcher watcher =
        NamespaceWatcher.builder(client)
            .creationPlan(
                ProvisioningPlan.builder("tenant", "1")
                    .step("certificate", recorder.sleeping(Duration.ofSeconds(3)))
                    .build())
            .leaderElection(
                LeaderElection.lease("default", lease)
                    .withIdentity("only")
                    .withTiming(
                        Duration.ofSeconds(4), Duration.ofSeconds(2), Duration.ofMillis(500)))
            .build()) {
      watcher.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> watcher.status().leader());
      cluster.create("test101");
      await().atMost(Duration.ofSeconds(20)).until(() -> recorder.running.get() == 1);

      FaultProxy.Trigger held =
          proxy.holdNext("PATCH /apis/coordination.k8s.io/v1/namespaces/default/leases/" + lease);
      await().atMost(Duration.ofSeconds(5)).until(held::fired);
      proxy.resetAll();

      await().atMost(Duration.ofSeconds(30)).until(() -> watcher.status().provisioned() == 1);
      assertThat(watcher.status().leader()).as("the next renewal went through").isTrue();
      assertThat(recorder.interrupted.get()).as("the running step was left alone").isZero();
    }
    assertThat(recorder.starts("test101", "certificate")).isEqualTo(1);
  }

  @Test
  void aMarkWhoseConnectionIsResetBeforeItArrivesIsSentAgainAndThePlanRunsOnce() {
    FaultProxy.Trigger held = proxy.holdNext(MARK);
    try (NamespaceWatcher watcher = watcher()) {
      watcher.start();
      await().until(() -> watcher.status().synced());
      cluster.create("test101");

      await().atMost(Duration.ofSeconds(20)).until(held::fired);
      assertThat(cluster.annotation("test101", KEY)).as("not arrived yet").isNull();
      proxy.resetAll();

      await().atMost(Duration.ofSeconds(30)).until(() -> watcher.status().provisioned() == 1);
      assertThat(cluster.annotation("test101", KEY)).isEqualTo("1");
      assertThat(watcher.status().markPending()).isZero();
    }
    assertThat(recorder.starts("test101", "certificate")).isEqualTo(1);
  }

  @Test
  void aMarkAppliedWhoseAnswerIsLostToAResetIsRecordedOnceAndThePlanRunsOnce() {
    FaultProxy.Trigger lost = proxy.loseRepliesAfter(MARK);
    try (NamespaceWatcher watcher = watcher()) {
      watcher.start();
      await().until(() -> watcher.status().synced());
      cluster.create("test101");

      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> lost.fired() && "1".equals(cluster.annotation("test101", KEY)));
      assertThat(watcher.status().provisioned()).as("the answer has not come back").isZero();
      proxy.resetAll();

      await().atMost(Duration.ofSeconds(30)).until(() -> watcher.status().provisioned() == 1);
      assertThat(cluster.annotation("test101", KEY)).isEqualTo("1");
    }
    assertThat(recorder.starts("test101", "certificate")).isEqualTo(1);

    try (NamespaceWatcher restarted = watcher()) {
      restarted.start();
      await().until(() -> restarted.status().alreadyProvisioned() == 1);
    }
    assertThat(recorder.starts("test101", "certificate")).as("never run again").isEqualTo(1);
  }
}
