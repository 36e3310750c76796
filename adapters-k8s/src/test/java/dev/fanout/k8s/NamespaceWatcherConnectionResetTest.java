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
 * proxy, in the middle of the watcher's completion mark: before the request reaches the server,
 * and after the server applied it but before its answer came back.
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
    return NamespaceWatcher.builder(client)
        .creationPlan(
            ProvisioningPlan.builder("tenant", "1")
                .step("certificate", recorder.sleeping(Duration.ofMillis(10)))
                .build())
        .deletionPlan(
            ProvisioningPlan.builder("tenant-cleanup", "1")
                .step("certificate", recorder.sleeping(Duration.ofMillis(10)))
                .build())
        .build();
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
