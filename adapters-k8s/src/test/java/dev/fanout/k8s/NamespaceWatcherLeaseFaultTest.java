package dev.fanout.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The leader's Lease calls fail (500, 429) or hang while it provisions; the other replica takes
 * over. At no instant may both run steps of one namespace: every step records its start and end
 * (one JVM, one nanoTime clock), and the executions of the two replicas must not intersect.
 *
 * <p>Timing: a 4 s lease, 2 s renew deadline, 500 ms retry period. The old leader must have
 * ended its steps by the renew deadline after its last renewal; the other may take over 4 s after
 * it: 2 s of margin for a loaded machine. Runs per fault: {@code -Dfanout.k8s.leaseFaultRuns}
 * (1 unless set).
 */
class NamespaceWatcherLeaseFaultTest {
  static final int RUNS = Integer.getInteger("fanout.k8s.leaseFaultRuns", 1);

  final FaultyApiServer server = new FaultyApiServer();
  final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
    server.close();
  }

  record Replica(String identity, StepRecorder recorder, NamespaceWatcher watcher) {}

  Replica replica(String identity, String lease, StepRecorder recorder, Duration certificate) {
    KubernetesClient own = server.client(identity);
    own.namespaces().list(); // warm up: a cold first call is slow
    ProvisioningPlan plan =
        ProvisioningPlan.builder("tenant", "1")
            .step("certificate", recorder.sleeping(certificate))
            .step("dns-record", recorder.sleeping(Duration.ofMillis(100)), "certificate")
            .step("sqs-queues", recorder.sleeping(Duration.ofMillis(800)))
            .build();
    NamespaceWatcher watcher =
        NamespaceWatcher.builder(own)
            .name("watcher-" + identity)
            .creationPlan(plan)
            .leaderElection(
                LeaderElection.lease("default", lease)
                    .withIdentity(identity)
                    .withTiming(
                        Duration.ofSeconds(4), Duration.ofSeconds(2), Duration.ofMillis(500)))
            .build();
    resources.add(watcher);
    return new Replica(identity, recorder, watcher);
  }

  @Test
  void leaseRenewalsAnsweredWithServerErrorsNeverLetTwoReplicasRunOneNamespace() {
    for (int run = 1; run <= RUNS; run++) {
      failover("e" + run, lease -> server.fail(lease, 500, -1));
    }
  }

  @Test
  void leaseRenewalsThrottledNeverLetTwoReplicasRunOneNamespace() {
    for (int run = 1; run <= RUNS; run++) {
      failover("t" + run, lease -> server.fail(lease, 429, 1, -1));
    }
  }

  @Test
  void leaseRenewalsSlowerThanTheRenewDeadlineNeverLetTwoReplicasRunOneNamespace() {
    for (int run = 1; run <= RUNS; run++) {
      // Slower than the request timeout and not applied (a gateway gives up after 8 s). A slow
      // answer to a write the server did apply keeps the lease held, but with nobody leading:
      // safe, not live; see the reliability notes.
      failover("s" + run, lease -> server.failSlowly(lease, 504, Duration.ofSeconds(8), -1));
    }
  }

  @Test
  void leaseReadsAnsweredWithServerErrorsNeverLetTwoReplicasRunOneNamespace() {
    for (int run = 1; run <= RUNS; run++) {
      failover("re" + run, Calls.READS, lease -> server.fail(lease, 500, -1));
    }
  }

  @Test
  void leaseReadsThrottledNeverLetTwoReplicasRunOneNamespace() {
    for (int run = 1; run <= RUNS; run++) {
      failover("rt" + run, Calls.READS, lease -> server.fail(lease, 429, 1, -1));
    }
  }

  @Test
  void leaseReadsSlowerThanTheRenewDeadlineNeverLetTwoReplicasRunOneNamespace() {
    for (int run = 1; run <= RUNS; run++) {
      failover("rs" + run, Calls.READS, lease -> server.slow(lease, Duration.ofSeconds(8), -1));
    }
  }

  /** Which of the leader's Lease calls break. */
  enum Calls {
    /** Its writes of the Lease: the body names it as the holder. */
    RENEWALS,
    /**
     * Its reads of the Lease (each renewal starts with one), told from the other replica's by the
     * User-Agent its client sends.
     */
    READS
  }

  private void failover(
      String id, Function<Predicate<RecordedRequest>, FaultyApiServer.Fault> fault) {
    failover(id, Calls.RENEWALS, fault);
  }

  /** One failover: a leads and provisions; its Lease calls break; b takes over and finishes. */
  private void failover(
      String id, Calls calls, Function<Predicate<RecordedRequest>, FaultyApiServer.Fault> fault) {
    String lease = "lease-" + id;
    StepRecorder aSteps = new StepRecorder("a-" + id);
    StepRecorder bSteps = new StepRecorder("b-" + id);
    // a's first step outlasts the renew deadline: it is running when a must stop.
    Replica a = replica("a-" + id, lease, aSteps, Duration.ofSeconds(30));
    a.watcher().start();
    await().atMost(Duration.ofSeconds(20)).until(() -> a.watcher().status().synced());
    Replica b = replica("b-" + id, lease, bSteps, Duration.ofMillis(300));
    b.watcher().start();

    List<String> names = IntStream.rangeClosed(1, 4).mapToObj(i -> id + "-tenant-" + i).toList();
    KubernetesClient admin = server.client("admin-" + id);
    WatcherFixture cluster = new WatcherFixture(admin);
    names.forEach(cluster::create);
    await().until(() -> aSteps.running.get() > 0);

    Predicate<RecordedRequest> callsOfA =
        switch (calls) {
          case RENEWALS ->
              r ->
                  r.getPath().contains("/leases/" + lease)
                      && !r.getMethod().equalsIgnoreCase("GET")
                      && FaultyApiServer.bodyOf(r).contains("\"a-" + id + "\"");
          case READS ->
              r ->
                  r.getPath().contains("/leases/" + lease)
                      && r.getMethod().equalsIgnoreCase("GET")
                      && ("a-" + id).equals(FaultyApiServer.userAgentOf(r));
        };
    FaultyApiServer.Fault injected = fault.apply(callsOfA);
    await().atMost(Duration.ofSeconds(10)).until(() -> injected.hits.get() > 0);

    await()
        .atMost(Duration.ofSeconds(40))
        .until(() -> names.stream().allMatch(n -> "1".equals(cluster.annotation(n, "provisioning.fanout.dev/tenant"))));
    await().until(() -> aSteps.running.get() == 0 && bSteps.running.get() == 0);
    assertThat(a.watcher().status().leader()).isFalse();
    assertThat(b.watcher().status().provisioned()).as("b finished what a could not").isPositive();
    assertThat(aSteps.interrupted.get()).as("a's running steps were interrupted").isPositive();

    for (String namespace : names) {
      for (StepRecorder.Execution x : aSteps.of(namespace)) {
        for (StepRecorder.Execution y : bSteps.of(namespace)) {
          boolean apart = x.endNanos() < y.startNanos() || y.endNanos() < x.startNanos();
          assertThat(apart)
              .as("%s: %s of a ran %d..%d ms, %s of b ran %d..%d ms", namespace, x.step(),
                  x.startNanos() / 1_000_000, x.endNanos() / 1_000_000, y.step(),
                  y.startNanos() / 1_000_000, y.endNanos() / 1_000_000)
              .isTrue();
        }
      }
      long lastOfA = aSteps.of(namespace).stream().mapToLong(StepRecorder.Execution::endNanos).max().orElse(0);
      long firstOfB = bSteps.of(namespace).stream().mapToLong(StepRecorder.Execution::startNanos).min().orElse(Long.MAX_VALUE);
      if (lastOfA != 0 && firstOfB != Long.MAX_VALUE) {
        gaps.add((firstOfB - lastOfA) / 1_000_000);
      }
    }
    server.clearFaults();
    a.watcher().close();
    b.watcher().close();
    System.err.printf("lease fault run %s: gaps between a's last and b's first step (ms): %s%n", id, gaps);
    gaps.clear();
  }

  final List<Long> gaps = new ArrayList<>();
}
