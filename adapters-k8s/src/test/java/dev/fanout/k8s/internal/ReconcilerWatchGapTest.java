package dev.fanout.k8s.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fanout.k8s.PlanListener;
import dev.fanout.k8s.ProvisioningPlan;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryPolicy;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A namespace deleted and created again under the same name while the watch was down: the
 * re-list brings the new object as an update of the old one (another UID). The old one's
 * deletion plan runs, then the new one is provisioned.
 */
@EnableKubernetesMockClient(crud = true)
class ReconcilerWatchGapTest {
  static final String KEY = "provisioning.fanout.dev/tenant";

  KubernetesClient client;

  @Test
  void aNamespaceReplacedDuringAWatchGapIsCleanedUpThenProvisionedAgain() {
    Queue<String> runs = new ConcurrentLinkedQueue<>();
    ProvisioningPlan creation =
        ProvisioningPlan.builder("tenant", "1")
            .step("certificate", ctx -> runs.add("create " + ctx.resource().getMetadata().getUid()))
            .build();
    ProvisioningPlan deletion =
        ProvisioningPlan.builder("tenant-cleanup", "1")
            .step("certificate", ctx -> runs.add("delete " + ctx.resource().getMetadata().getUid()))
            .build();
    // While "down", the handler ignores every event, as if the watch had dropped them; the
    // informer's cache still follows the server, as it does after its re-list.
    AtomicBoolean down = new AtomicBoolean();
    WatcherCounters counters = new WatcherCounters();
    Reconciler reconciler = reconciler(creation, deletion, counters, down);
    reconciler.start();
    await().until(reconciler::synced);

    Namespace first = create("test101");
    await().until(() -> counters.provisioned.sum() == 1);
    Namespace marked = client.namespaces().withName("test101").get();

    down.set(true);
    client.namespaces().withName("test101").delete();
    await().until(() -> client.namespaces().withName("test101").get() == null);
    Namespace second = create("test101");
    await().until(() -> second.getMetadata().getUid().equals(uidInCache(reconciler)));
    down.set(false);
    // What the re-list delivers: the cached (old) object and the listed (new) one.
    reconciler.eventHandler().onUpdate(marked, reconciler.cached("test101"));

    await().until(() -> counters.provisioned.sum() == 2);
    await().until(() -> counters.deleted.sum() == 1);
    assertThat(runs)
        .containsExactly(
            "create " + first.getMetadata().getUid(),
            "delete " + first.getMetadata().getUid(),
            "create " + second.getMetadata().getUid());
    reconciler.drain();
  }

  private static String uidInCache(Reconciler reconciler) {
    Namespace cached = reconciler.cached("test101");
    return cached == null ? "" : cached.getMetadata().getUid();
  }

  private Namespace create(String name) {
    return client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
  }

  private Reconciler reconciler(
      ProvisioningPlan creation,
      ProvisioningPlan deletion,
      WatcherCounters counters,
      AtomicBoolean down) {
    return new Reconciler(
        new WatcherSettings(
            "gap",
            client,
            client,
            null,
            ns -> !down.get(),
            creation,
            deletion,
            KEY,
            false,
            4,
            Duration.ofSeconds(5),
            Duration.ZERO,
            Duration.ofSeconds(5),
            Thread.ofVirtual().factory(),
            Thread.ofVirtual().factory(),
            RetryPolicy.none(),
            Backoff.fixed(Duration.ofMillis(50)),
            PlanListener.none(),
            null,
            new ConcurrentHashMap<>()),
        counters,
        null);
  }
}
