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
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Replayed and stale events (an ADDED carrying the namespace as it was before it was marked, as
 * a re-list or a duplicate delivery may bring) do not provision again: a run looks at the cache,
 * not at the event.
 */
@EnableKubernetesMockClient(crud = true)
class ReconcilerReplayTest {
  static final String KEY = "provisioning.fanout.dev/tenant";

  KubernetesClient client;

  @Test
  void staleReplayedEventsDoNotProvisionTwice() {
    Map<String, AtomicInteger> starts = new ConcurrentHashMap<>();
    ProvisioningPlan plan =
        ProvisioningPlan.builder("tenant", "1")
            .step(
                "certificate",
                ctx ->
                    starts.computeIfAbsent(ctx.step(), k -> new AtomicInteger()).incrementAndGet())
            .step(
                "dns-record",
                ctx ->
                    starts.computeIfAbsent(ctx.step(), k -> new AtomicInteger()).incrementAndGet(),
                "certificate")
            .build();
    AtomicInteger filterCalls = new AtomicInteger();
    WatcherCounters counters = new WatcherCounters();
    Reconciler first = reconciler(plan, counters, filterCalls);
    first.start();
    await().until(first::synced);
    Namespace created =
        client
            .namespaces()
            .resource(
                new NamespaceBuilder().withNewMetadata().withName("test101").endMetadata().build())
            .create();
    await().until(() -> counters.provisioned.sum() == 1);

    // The same term: it remembers what it provisioned, whatever the cache shows yet.
    replay(first, created);
    assertThat(starts.get("certificate")).hasValue(1);
    assertThat(counters.alreadyProvisioned.sum())
        .as("the replayed ADDED events and the unchanged (replayed) updates")
        .isEqualTo(6);
    first.drain();

    // A new term (a restart, a new leader) knows nothing but the cluster: its runs read the
    // namespace from the informer's cache, which shows the mark, not from the stale event.
    Reconciler second = reconciler(plan, counters, filterCalls);
    second.start();
    await().until(second::synced);
    await().until(() -> counters.alreadyProvisioned.sum() == 7); // its initial list
    int before = filterCalls.get();
    replay(second, created);

    assertThat(filterCalls.get() - before)
        .as("6 events and at least one run looked")
        .isGreaterThanOrEqualTo(7);
    assertThat(starts.get("certificate")).hasValue(1);
    assertThat(starts.get("dns-record")).hasValue(1);
    assertThat(counters.provisioned.sum()).isEqualTo(1);
    assertThat(counters.alreadyProvisioned.sum())
        .as("stale (unmarked) events are no sightings of the mark")
        .isEqualTo(7);
    second.drain();
  }

  private Reconciler reconciler(
      ProvisioningPlan plan, WatcherCounters counters, AtomicInteger filterCalls) {
    return new Reconciler(
        new WatcherSettings(
            "replay",
            client,
            client,
            null,
            ns -> filterCalls.incrementAndGet() > 0,
            plan,
            null,
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

  /** Replays the namespace as it was before it was marked: three ADDED, three MODIFIED. */
  private static void replay(Reconciler reconciler, Namespace stale) {
    ResourceEventHandler<Namespace> events = reconciler.eventHandler();
    for (int i = 0; i < 3; i++) {
      events.onAdd(stale);
      events.onUpdate(stale, stale);
    }
    await().until(() -> reconciler.inFlight() == 0);
  }
}
