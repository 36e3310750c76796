package dev.fanout.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two replicas with leader election on one mock API server. The CRUD mock keeps Leases like any
 * object and enforces what fabric8's {@code LeaseLock} needs: a second create of the same Lease
 * is a 409 conflict, and a patch carrying a stale resourceVersion is a 409 conflict.
 */
@EnableKubernetesMockClient(crud = true)
class NamespaceWatcherLeaderElectionTest {
  KubernetesMockServer server;
  KubernetesClient client;
  final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  /** A replica: its own client, steps and watcher; short election timing for the test. */
  record Replica(String identity, StepRecorder recorder, NamespaceWatcher watcher) {}

  Replica replica(String identity, @Nullable StepAction slowStep) {
    KubernetesClient own = server.createClient();
    resources.add(own);
    // A lease is no lock: fabric8 stamps renewTime before its call, so a first call slower than
    // the lease (a cold JVM: seconds) lets another replica take over while this one still
    // believes it leads. Warm the client up so the test's short lease is not such a call.
    own.namespaces().list();
    StepRecorder recorder = new StepRecorder(identity);
    ProvisioningPlan plan =
        ProvisioningPlan.builder("tenant", "1")
            .step("certificate", recorder.sleeping(Duration.ofMillis(20)))
            .step("dns-record", recorder.sleeping(Duration.ofMillis(20)), "certificate")
            .step(
                "sqs-queues",
                slowStep != null ? slowStep : recorder.sleeping(Duration.ofMillis(20)))
            .build();
    NamespaceWatcher watcher =
        NamespaceWatcher.builder(own)
            .name("watcher-" + identity)
            .creationPlan(plan)
            .leaderElection(
                LeaderElection.lease("default", "namespace-watcher")
                    .withIdentity(identity)
                    // A leader keeps its lease through stalls of up to 6 s on a loaded machine.
                    .withTiming(
                        Duration.ofSeconds(8), Duration.ofSeconds(6), Duration.ofMillis(250)))
            .build();
    resources.add(watcher);
    return new Replica(identity, recorder, watcher);
  }

  Replica replica(String identity) {
    return replica(identity, null);
  }

  static Replica leaderOf(Replica a, Replica b) {
    await().until(() -> a.watcher().status().synced() ^ b.watcher().status().synced());
    return a.watcher().status().leader() ? a : b;
  }

  @Test
  void onlyTheLeaderProvisionsAndAFollowerTakesOverWhenItLeaves() {
    WatcherFixture cluster = new WatcherFixture(client);
    Replica a = replica("replica-a");
    Replica b = replica("replica-b");
    a.watcher().start();
    b.watcher().start();
    Replica leader = leaderOf(a, b);
    Replica follower = leader == a ? b : a;

    List<String> first = IntStream.rangeClosed(1, 10).mapToObj(i -> "tenant-" + i).toList();
    first.forEach(cluster::create);
    await().until(() -> leader.watcher().status().provisioned() == 10);

    assertThat(leader.recorder().executions).hasSize(30);
    assertThat(follower.recorder().executions).as("the follower provisions nothing").isEmpty();
    assertThat(follower.watcher().status().leader()).isFalse();
    assertThat(follower.watcher().status().synced()).isFalse();
    // A follower learns who leads at its next attempt to acquire the lease.
    await().until(() -> leader.identity().equals(follower.watcher().currentLeader()));

    // A graceful shutdown releases the lease: the follower takes over without waiting it out.
    leader.watcher().close();
    await().atMost(Duration.ofSeconds(10)).until(() -> follower.watcher().status().synced());
    await().until(() -> follower.watcher().status().alreadyProvisioned() == 10);
    cluster.create("tenant-11");
    await().until(() -> follower.watcher().status().provisioned() == 1);

    assertThat(follower.recorder().executions).as("only tenant-11, nothing again").hasSize(3);
    assertThat(follower.recorder().of("tenant-11")).hasSize(3);
    assertThat(cluster.annotation("tenant-11", "provisioning.fanout.dev/tenant")).isEqualTo("1");
  }

  @Test
  void aLeaderThatLosesTheLeaseCancelsItsWorkAndTheNextLeaderRedoesIt() {
    WatcherFixture cluster = new WatcherFixture(client);
    // The queues step hangs on its first run anywhere, then works.
    Queue<String> hungOnce = new ConcurrentLinkedQueue<>();
    StepRecorder shared = new StepRecorder("either");
    StepAction queues =
        ctx ->
            shared.record(
                ctx,
                () -> {
                  if (!hungOnce.contains(ctx.namespace())) {
                    hungOnce.add(ctx.namespace());
                    Thread.sleep(Duration.ofHours(1));
                  }
                });
    Replica a = replica("replica-a", queues);
    Replica b = replica("replica-b", queues);
    a.watcher().start();
    b.watcher().start();
    Replica leader = leaderOf(a, b);
    cluster.create("test101");
    await().until(() -> shared.running.get() == 1);

    // Someone else takes the lease (as a replica on another network partition would).
    // The edit is optimistic (it carries the resourceVersion it read), so it may meet a renewal
    // and get a 409 conflict: try again, as any client would.
    await()
        .ignoreException(KubernetesClientException.class)
        .until(
            () ->
                client
                        .resources(Lease.class)
                        .inNamespace("default")
                        .withName("namespace-watcher")
                        .edit(
                            lease ->
                                new LeaseBuilder(lease)
                                    .editSpec()
                                    .withHolderIdentity("intruder")
                                    .withRenewTime(ZonedDateTime.now(ZoneOffset.UTC))
                                    .endSpec()
                                    .build())
                    != null);

    await().atMost(Duration.ofSeconds(10)).until(() -> leader.watcher().status().cancelled() == 1);
    assertThat(shared.interrupted).as("the hanging step was interrupted").hasValue(1);
    assertThat(cluster.annotation("test101", "provisioning.fanout.dev/tenant")).isNull();

    // The intruder never renews: after its 8 s lease, a replica leads again and finishes the job.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> a.watcher().status().provisioned() + b.watcher().status().provisioned() == 1);
    assertThat(cluster.annotation("test101", "provisioning.fanout.dev/tenant")).isEqualTo("1");
    assertThat(shared.starts("test101", "sqs-queues")).isEqualTo(2);
    assertThat(shared.running).hasValue(0);
  }
}
