package dev.fanout.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryPolicy;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The watcher against fabric8's mock API server in CRUD mode, with a real client. */
@EnableKubernetesMockClient(crud = true)
class NamespaceWatcherTest {
  static final String KEY = "provisioning.fanout.dev/tenant";

  KubernetesClient client;
  WatcherFixture cluster;
  StepRecorder recorder;
  TrackingThreadFactory threads;
  final List<NamespaceWatcher> watchers = new ArrayList<>();

  @BeforeEach
  void setUp() {
    cluster = new WatcherFixture(client);
    recorder = new StepRecorder();
    threads = new TrackingThreadFactory();
  }

  @AfterEach
  void closeWatchers() {
    watchers.forEach(NamespaceWatcher::close);
  }

  NamespaceWatcher.Builder watcher(ProvisioningPlan plan) {
    return NamespaceWatcher.builder(client)
        .creationPlan(plan)
        .threadFactory(threads)
        .listener(cluster.listener)
        .maxConcurrentNamespaces(16);
  }

  NamespaceWatcher started(NamespaceWatcher.Builder builder) {
    NamespaceWatcher watcher = builder.build();
    watchers.add(watcher);
    watcher.start();
    await().until(() -> watcher.status().synced());
    return watcher;
  }

  static ProvisioningPlan original(StepAction action) {
    return ProvisioningPlanTest.originalPlan(action);
  }

  static RetryPolicy quickRetries(int attempts) {
    return RetryPolicy.builder()
        .maxAttempts(attempts)
        .backoff(Backoff.fixed(Duration.ofMillis(10)))
        .build();
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  void threeNamespacesCreatedAtOnceTakeAboutOneNamespacesTime() throws Exception {
    // Steps of 1 s: one plan takes 2 s, long next to the time events take to arrive on a busy
    // machine, so the three plans overlap however their starts spread.
    NamespaceWatcher watcher = started(watcher(original(recorder.sleeping(Duration.ofSeconds(1)))));
    List<String> names = List.of("test101", "test102", "test103");

    CountDownLatch go = new CountDownLatch(1);
    List<Thread> creators =
        names.stream()
            .map(
                name ->
                    Thread.ofVirtual()
                        .start(
                            () -> {
                              try {
                                go.await();
                                cluster.create(name);
                              } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                              }
                            }))
            .toList();
    go.countDown();
    for (Thread creator : creators) {
      creator.join();
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> watcher.status().provisioned() == 3);

    long[] firstStart = new long[3];
    long[] lastEnd = new long[3];
    for (int i = 0; i < 3; i++) {
      List<StepRecorder.Execution> runs = recorder.of(names.get(i));
      assertThat(runs).hasSize(6);
      firstStart[i] =
          runs.stream().mapToLong(StepRecorder.Execution::startNanos).min().orElseThrow();
      lastEnd[i] = runs.stream().mapToLong(StepRecorder.Execution::endNanos).max().orElseThrow();
      assertThat(cluster.annotation(names.get(i), KEY)).isEqualTo("1");
    }
    long startSpread = max(firstStart) - min(firstStart);
    long onePlan =
        IntStream.range(0, 3).mapToLong(i -> lastEnd[i] - firstStart[i]).min().orElseThrow();
    long total = max(lastEnd) - min(firstStart);
    System.out.printf(
        "3 namespaces: starts within %.1f ms, one plan %.0f ms, all three %.0f ms (sequential:"
            + " ~%.0f ms)%n",
        startSpread / 1e6, onePlan / 1e6, total / 1e6, 3 * onePlan / 1e6);

    assertThat(max(firstStart))
        .as("every namespace started before any finished")
        .isLessThan(min(lastEnd));
    assertThat(total)
        .as("all three in less than twice one namespace's time (in a row: three times)")
        .isLessThan(onePlan * 2);
    watcher.close();
    assertThat(threads.alive()).isEmpty();
  }

  @Test
  void aFailingStepIsRetriedThenReportedWithItsDependantsSkippedWhileOtherNamespacesGoOn() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StepAction ok = recorder.sleeping(Duration.ofMillis(10));
    ProvisioningPlan plan =
        ProvisioningPlan.builder("tenant", "1")
            .step(
                "certificate",
                recorder.failing(Integer.MAX_VALUE, "test-bad"::equals, Duration.ZERO))
            .step("dns-record", ok, "certificate")
            .step("sqs-queues", recorder.failing(2, "test-flaky"::equals, Duration.ZERO))
            .step("sns-topics", ok)
            .defaultRetry(quickRetries(3))
            .build();
    NamespaceWatcher watcher = started(watcher(plan).meterRegistry(registry).name("tenants"));

    cluster.create("test-bad");
    cluster.create("test-flaky");
    cluster.create("test-good");
    // The end state: all three counted, reported and their workers gone (the in-flight gauge).
    await()
        .until(
            () -> {
              WatcherStatus s = watcher.status();
              return s.provisioned() == 2
                  && s.failed() == 1
                  && s.inFlight() == 0
                  && cluster.finished.size() == 3;
            });

    PlanReport bad = cluster.onlyReport(PlanPhase.CREATION, "test-bad");
    assertThat(bad.status()).isEqualTo(PlanStatus.FAILED);
    assertThat(bad.step("certificate").attempts()).isEqualTo(3);
    assertThat(bad.stepsWith(StepStatus.SKIPPED)).containsExactly("dns-record");
    assertThat(bad.stepsWith(StepStatus.SUCCEEDED))
        .containsExactlyInAnyOrder("sqs-queues", "sns-topics");
    assertThat(recorder.starts("test-bad", "dns-record")).isZero();
    assertThat(cluster.annotation("test-bad", KEY)).as("not marked: tried again later").isNull();

    PlanReport flaky = cluster.onlyReport(PlanPhase.CREATION, "test-flaky");
    assertThat(flaky.status()).isEqualTo(PlanStatus.SUCCEEDED);
    assertThat(flaky.step("sqs-queues").attempts()).isEqualTo(3);
    assertThat(cluster.annotation("test-flaky", KEY)).isEqualTo("1");
    assertThat(cluster.annotation("test-good", KEY)).isEqualTo("1");

    assertThat(
            registry
                .get("fanout.k8s.plans")
                .tags("name", "tenants", "status", "failed")
                .counter()
                .count())
        .isEqualTo(1);
    assertThat(
            registry
                .get("fanout.k8s.plans")
                .tags("status", "succeeded", "phase", "creation")
                .counter()
                .count())
        .isEqualTo(2);
    assertThat(
            registry
                .get("fanout.k8s.step.duration")
                .tags("step", "certificate", "status", "failed")
                .timer()
                .count())
        .isEqualTo(1);
    assertThat(
            registry
                .get("fanout.k8s.steps.not.run")
                .tags("step", "dns-record", "status", "skipped")
                .counter()
                .count())
        .isEqualTo(1);
    assertThat(registry.get("fanout.k8s.namespaces.inflight").gauge().value()).isZero();
    assertThat(registry.get("fanout.k8s.leader").gauge().value()).isEqualTo(1);
    watcher.close();
    assertThat(registry.find("fanout.k8s.plans").counters())
        .as("meters removed on close")
        .isEmpty();
  }

  @Test
  void aPlanRunIsCountedOnlyOnceItsListenerWasToldAndItsMetersRecorded() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AtomicReference<NamespaceWatcher> self = new AtomicReference<>();
    Queue<WatcherStatus> seenByListener = new ConcurrentLinkedQueue<>();
    NamespaceWatcher watcher =
        started(
            watcher(original(recorder.sleeping(Duration.ZERO)))
                .meterRegistry(registry)
                .listener((phase, report) -> seenByListener.add(self.get().status())));
    self.set(watcher);

    cluster.create("test101");
    await().until(() -> watcher.status().provisioned() == 1);

    assertThat(seenByListener)
        .singleElement()
        .extracting(WatcherStatus::provisioned)
        .as("not counted yet while the listener is told")
        .isEqualTo(0L);
    assertThat(registry.get("fanout.k8s.plans").counter().count()).isEqualTo(1);
  }

  @Test
  void aRestartedWatcherAndReplayedEventsDoNotProvisionAgain() {
    ProvisioningPlan plan = original(recorder.sleeping(Duration.ofMillis(5)));
    NamespaceWatcher first = started(watcher(plan));
    List<String> names = IntStream.rangeClosed(1, 5).mapToObj(i -> "tenant-" + i).toList();
    names.forEach(cluster::create);
    await().until(() -> first.status().provisioned() == 5);
    first.close();
    assertThat(recorder.executions).hasSize(30);

    // A new watcher lists the namespaces again (ADDED for each), and its informer replays them
    // every second (resync); a filter that counts calls shows the replays happened.
    AtomicInteger seen = new AtomicInteger();
    NamespaceWatcher second =
        started(
            watcher(plan)
                .resyncPeriod(Duration.ofSeconds(1))
                .filter(ns -> seen.incrementAndGet() > 0));
    await().until(() -> second.status().alreadyProvisioned() == 5);
    await().until(() -> seen.get() >= 10);

    assertThat(second.status().inFlight()).isZero();
    assertThat(second.status().provisioned()).isZero();
    assertThat(recorder.executions).as("no step ran again").hasSize(30);
  }

  @Test
  void aNamespaceDeletedWhileBeingCreatedIsCancelledThenCleanedUp() throws Exception {
    Queue<String> hanging = new ConcurrentLinkedQueue<>();
    StepRecorder cleanup = new StepRecorder("cleanup");
    ProvisioningPlan creation =
        ProvisioningPlan.builder("tenant", "1")
            .step(
                "certificate",
                recorder.sleepingOrHanging(Duration.ZERO, "test101"::equals, hanging))
            .step("dns-record", recorder.sleeping(Duration.ZERO), "certificate")
            .step("sqs-queues", recorder.sleeping(Duration.ZERO))
            .build();
    ProvisioningPlan deletion =
        ProvisioningPlan.builder("tenant-cleanup", "1")
            .step("dns-record", cleanup.sleeping(Duration.ZERO))
            .step("certificate", cleanup.sleeping(Duration.ZERO), "dns-record")
            .build();
    NamespaceWatcher watcher = started(watcher(creation).deletionPlan(deletion));

    cluster.create("test101");
    await().until(() -> hanging.contains("test101"));
    cluster.delete("test101");
    await().until(() -> watcher.status().deleted() == 1);
    settleAfter(watcher, "marker");

    PlanReport created = cluster.onlyReport(PlanPhase.CREATION, "test101");
    assertThat(created.status()).isEqualTo(PlanStatus.CANCELLED);
    assertThat(created.step("certificate").status()).isEqualTo(StepStatus.CANCELLED);
    assertThat(created.step("dns-record").attempts()).as("queued step dropped").isZero();
    assertThat(created.step("sqs-queues").status()).isEqualTo(StepStatus.SUCCEEDED);
    assertThat(recorder.interrupted).hasValue(1);
    assertThat(cluster.onlyReport(PlanPhase.DELETION, "test101").status())
        .isEqualTo(PlanStatus.SUCCEEDED);
    assertThat(cleanup.starts("test101", "dns-record")).isEqualTo(1);
    assertThat(cleanup.starts("test101", "certificate")).isEqualTo(1);
    assertThat(watcher.status().cancelled()).isEqualTo(1);
    assertThat(watcher.status().provisioned()).as("only the marker").isEqualTo(1);
  }

  @Test
  void aTerminatingNamespaceHasItsCreationCancelledAndIsCleanedUpWhenItIsGone() {
    Queue<String> hanging = new ConcurrentLinkedQueue<>();
    StepRecorder cleanup = new StepRecorder("cleanup");
    ProvisioningPlan creation =
        ProvisioningPlan.builder("tenant", "1")
            .step("certificate", recorder.sleepingOrHanging(Duration.ZERO, ns -> true, hanging))
            .build();
    ProvisioningPlan deletion =
        ProvisioningPlan.builder("tenant-cleanup", "1")
            .step("certificate", cleanup.sleeping(Duration.ZERO))
            .build();
    NamespaceWatcher watcher = started(watcher(creation).deletionPlan(deletion));

    // A finalizer keeps the namespace Terminating (deletionTimestamp set) after the delete call.
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName("test101")
                .withFinalizers("example.com/hold")
                .endMetadata()
                .build())
        .create();
    await().until(() -> hanging.contains("test101"));
    cluster.delete("test101");
    await().until(() -> watcher.status().cancelled() == 1);
    assertThat(cleanup.starts("test101", "certificate")).as("not gone yet").isZero();

    client
        .namespaces()
        .withName("test101")
        .edit(
            ns ->
                new NamespaceBuilder(ns)
                    .editMetadata()
                    .withFinalizers(List.of())
                    .endMetadata()
                    .build());
    await().until(() -> watcher.status().deleted() == 1);
    assertThat(cleanup.starts("test101", "certificate")).isEqualTo(1);
    assertThat(recorder.starts("test101", "certificate")).as("never created again").isEqualTo(1);
  }

  @Test
  void withACleanupFinalizerADeletionMadeWhileNoWatcherRanIsStillCleanedUp() {
    StepRecorder cleanup = new StepRecorder("cleanup");
    ProvisioningPlan creation = original(recorder.sleeping(Duration.ZERO));
    ProvisioningPlan deletion = cleanupPlan(cleanup);
    NamespaceWatcher first =
        started(watcher(creation).deletionPlan(deletion).cleanupFinalizer(true));
    cluster.create("test101");
    await().until(() -> first.status().provisioned() == 1);
    assertThat(cluster.get("test101").getMetadata().getFinalizers()).containsExactly(KEY);
    first.close();

    cluster.delete("test101"); // nobody watches; the finalizer keeps it Terminating
    assertThat(cluster.get("test101").getMetadata().getDeletionTimestamp()).isNotNull();

    NamespaceWatcher second =
        started(watcher(creation).deletionPlan(deletion).cleanupFinalizer(true));
    await().until(() -> second.status().deleted() == 1 && cluster.get("test101") == null);
    settleAfter(second, "marker");

    assertThat(cleanup.starts("test101", "dns-record")).as("cleaned up once").isEqualTo(1);
    assertThat(cleanup.starts("test101", "certificate")).isEqualTo(1);
    assertThat(recorder.of("test101")).as("created once, by the first watcher").hasSize(6);
  }

  @Test
  void withACleanupFinalizerADeleteDuringCreationIsCancelledCleanedUpOnceAndLetGo() {
    Queue<String> hanging = new ConcurrentLinkedQueue<>();
    StepRecorder cleanup = new StepRecorder("cleanup");
    ProvisioningPlan creation =
        ProvisioningPlan.builder("tenant", "1")
            .step(
                "certificate",
                recorder.sleepingOrHanging(Duration.ZERO, "test101"::equals, hanging))
            .step("dns-record", recorder.sleeping(Duration.ZERO), "certificate")
            .build();
    NamespaceWatcher watcher =
        started(watcher(creation).deletionPlan(cleanupPlan(cleanup)).cleanupFinalizer(true));

    cluster.create("test101");
    await().until(() -> hanging.contains("test101"));
    assertThat(cluster.get("test101").getMetadata().getFinalizers())
        .as("held before any step")
        .containsExactly(KEY);
    cluster.delete("test101");
    await().until(() -> watcher.status().deleted() == 1 && cluster.get("test101") == null);
    settleAfter(watcher, "marker");

    assertThat(cluster.onlyReport(PlanPhase.CREATION, "test101").status())
        .isEqualTo(PlanStatus.CANCELLED);
    assertThat(recorder.starts("test101", "dns-record")).isZero();
    assertThat(cleanup.starts("test101", "dns-record")).isEqualTo(1);
    assertThat(cleanup.starts("test101", "certificate")).isEqualTo(1);
    assertThat(cluster.reports(PlanPhase.DELETION, "test101")).hasSize(1);
  }

  @Test
  void aCleanupFinalizerNeedsADeletionPlan() {
    assertThatThrownBy(
            () ->
                NamespaceWatcher.builder(client)
                    .creationPlan(original(ctx -> {}))
                    .cleanupFinalizer(true)
                    .build())
        .hasMessage("cleanupFinalizer(true) needs a deletionPlan to run");
  }

  static ProvisioningPlan cleanupPlan(StepRecorder cleanup) {
    return ProvisioningPlan.builder("tenant-cleanup", "1")
        .step("dns-record", cleanup.sleeping(Duration.ZERO))
        .step("certificate", cleanup.sleeping(Duration.ZERO), "dns-record")
        .build();
  }

  /**
   * Creates {@code marker} and waits until the watcher has handled it and is idle. Watch events
   * arrive in order, so every event before the marker's has been handled, and its work done.
   */
  void settleAfter(NamespaceWatcher watcher, String marker) {
    long before = watcher.status().provisioned();
    cluster.create(marker);
    await()
        .until(() -> watcher.status().provisioned() > before && watcher.status().inFlight() == 0);
  }

  @Test
  void onlyNamespacesMatchingTheSelectorAreProvisionedAndLeavingTheSelectorIsNotADeletion() {
    StepRecorder cleanup = new StepRecorder("cleanup");
    ProvisioningPlan deletion =
        ProvisioningPlan.builder("tenant-cleanup", "1")
            .step("everything", cleanup.sleeping(Duration.ZERO))
            .build();
    NamespaceWatcher watcher =
        started(
            watcher(original(recorder.sleeping(Duration.ZERO)))
                .labelSelector("fanout.dev/provision=true")
                .filter(ns -> !ns.getMetadata().getName().startsWith("kube-"))
                .deletionPlan(deletion));

    cluster.create("plain");
    cluster.create("kube-tenant", Map.of("fanout.dev/provision", "true"));
    cluster.create("tenant-a", Map.of("fanout.dev/provision", "true"));
    cluster.create("tenant-b", Map.of("fanout.dev/provision", "true"));
    await().until(() -> watcher.status().provisioned() == 2);
    assertThat(recorder.of("plain")).isEmpty();
    assertThat(recorder.of("kube-tenant")).isEmpty();

    // tenant-a loses its label: the informer sees it leave (a DELETED event), but it still exists.
    client
        .namespaces()
        .withName("tenant-a")
        .edit(
            ns ->
                new NamespaceBuilder(ns).editMetadata().withLabels(Map.of()).endMetadata().build());
    cluster.delete("tenant-b");
    await().until(() -> watcher.status().deleted() == 1);
    await().until(() -> watcher.status().inFlight() == 0);

    assertThat(cleanup.starts("tenant-b", "everything")).isEqualTo(1);
    assertThat(cleanup.starts("tenant-a", "everything")).as("tenant-a was not deleted").isZero();
    assertThat(cluster.annotation("tenant-a", KEY)).isEqualTo("1");
  }

  @Test
  void closeDrainsInFlightWorkWithinTheShutdownTimeout() throws Exception {
    // Steps wait for a gate that opens only once close() has begun, then take 300 ms: both
    // namespaces are surely in flight when it begins, however slow the machine.
    CountDownLatch closing = new CountDownLatch(1);
    NamespaceWatcher watcher =
        started(
            watcher(original(recorder.gated(closing, Duration.ofMillis(300))))
                .shutdownTimeout(Duration.ofSeconds(20)));
    cluster.create("test101");
    cluster.create("test102");
    await().until(() -> recorder.started.get() == 10); // both namespaces' five independent steps
    assertThat(recorder.running).as("all ten at the gate").hasValue(10);

    Thread closer = Thread.ofVirtual().start(watcher::close);
    await().until(() -> !watcher.status().running());
    closing.countDown();

    assertThat(closer.join(Duration.ofSeconds(30))).as("close returned").isTrue();
    assertThat(watcher.status().provisioned()).as("drained, not cancelled").isEqualTo(2);
    assertThat(watcher.status().cancelled()).isZero();
    assertThat(recorder.interrupted).hasValue(0);
    assertThat(recorder.executions).hasSize(12);
    assertThat(watcher.status().running()).isFalse();
    assertThat(threads.alive()).isEmpty();
  }

  @Test
  void closeCancelsWhatIsLeftAfterTheShutdownTimeout() {
    NamespaceWatcher watcher =
        started(
            watcher(original(recorder.sleeping(Duration.ofHours(1))))
                .shutdownTimeout(Duration.ofMillis(200)));
    cluster.create("test101");
    await().until(() -> recorder.running.get() == 5);

    long start = System.nanoTime();
    watcher.close();

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(watcher.status().cancelled()).isEqualTo(1);
    assertThat(recorder.interrupted).hasValue(5);
    assertThat(recorder.running).hasValue(0);
    assertThat(threads.alive()).as("no worker or step thread left").isEmpty();
    assertThat(cluster.annotation("test101", KEY)).isNull();
  }

  @Test
  void badSettingsAreRejectedNamingTheSettingAndValue() {
    NamespaceWatcher.Builder builder = NamespaceWatcher.builder(client);
    assertThatThrownBy(builder::build).hasMessage("creationPlan must be set before build()");
    assertThatThrownBy(() -> builder.maxConcurrentNamespaces(0))
        .hasMessage("maxConcurrentNamespaces must be between 1 and 10000, was 0");
    assertThatThrownBy(() -> builder.resyncPeriod(Duration.ofMillis(10)))
        .hasMessage("resyncPeriod must be at least 1 s, or zero for none, was PT0.01S");
    assertThatThrownBy(() -> builder.shutdownTimeout(Duration.ofSeconds(-1)))
        .hasMessage("shutdownTimeout must not be negative, was PT-1S");
    assertThatThrownBy(() -> builder.labelSelector(" "))
        .hasMessage("labelSelector must not be blank, was ' '");
    assertThatThrownBy(() -> builder.annotationKey("bad key"))
        .hasMessage(
            "annotationKey must be a qualified name such as 'example.com/provisioned', was 'bad"
                + " key'");
    assertThatThrownBy(() -> builder.name("no spaces")).hasMessageContaining("was 'no spaces'");
    assertThatThrownBy(
            () ->
                LeaderElection.lease("ns", "lease")
                    .withTiming(
                        Duration.ofMillis(1500), Duration.ofSeconds(1), Duration.ofMillis(100)))
        .hasMessage("leaseDuration must be whole seconds, at least 1 s, was PT1.5S");
    assertThatThrownBy(
            () ->
                LeaderElection.lease("ns", "lease")
                    .withTiming(
                        Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofMillis(100)))
        .hasMessage("renewDeadline must be less than leaseDuration (PT2S), was PT2S");
    assertThatThrownBy(
            () ->
                LeaderElection.lease("ns", "lease")
                    .withTiming(
                        Duration.ofSeconds(2), Duration.ofMillis(400), Duration.ofMillis(200)))
        .hasMessage(
            "renewDeadline must be more than retryPeriod plus 120% jitter (440 ms for retryPeriod"
                + " PT0.2S), was PT0.4S");

    NamespaceWatcher watcher =
        builder.creationPlan(original(ctx -> {})).annotationKey("example.com/ready").build();
    assertThat(watcher.annotationKey()).isEqualTo("example.com/ready");
    watcher.start();
    assertThatThrownBy(watcher::start)
        .hasMessage(
            "namespace watcher 'namespace-watcher' can only be started once, it is STARTED");
    watcher.close();
    watcher.close();
  }

  private static long max(long[] values) {
    return java.util.Arrays.stream(values).max().orElseThrow();
  }

  private static long min(long[] values) {
    return java.util.Arrays.stream(values).min().orElseThrow();
  }
}
