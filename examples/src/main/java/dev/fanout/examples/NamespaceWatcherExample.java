package dev.fanout.examples;

import dev.fanout.k8s.LeaderElection;
import dev.fanout.k8s.NamespaceWatcher;
import dev.fanout.k8s.PlanPhase;
import dev.fanout.k8s.PlanReport;
import dev.fanout.k8s.ProvisioningPlan;
import dev.fanout.k8s.StepContext;
import dev.fanout.k8s.StepReport;
import dev.fanout.k8s.StepStatus;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.stream.IntStream;

/**
 * The namespace-watcher scenario: each new namespace gets a certificate, SQS queues, SNS topics,
 * Kong routes and Zadig workflows in parallel, and a DNS record once the certificate exists;
 * several namespaces are processed at once. The cloud calls are behind {@link TenantResources};
 * this example's implementation only simulates their latency.
 *
 * <p>By default it starts an embedded Kubernetes API server (fabric8's mock, in CRUD mode, on
 * loopback), creates three namespaces at once, waits until they are provisioned and prints the
 * timeline: one namespace at a time would have taken three plans' time, the watcher takes about
 * one. Then it deletes one namespace to show the deletion plan.
 *
 * <p>Arguments (all optional): {@code namespaces=3 scale=1.0} (step latencies are multiplied by
 * {@code scale}); and for a real cluster {@code kubeconfig=PATH}, which watches namespaces
 * labelled {@code fanout.dev/demo=true} in that cluster for {@code seconds=60} (Ctrl-C stops it
 * gracefully); add {@code create=true} to have it create (and afterwards delete) labelled demo
 * namespaces there, and {@code lease=NAMESPACE/NAME} to run it under leader election. The
 * service account needs the permissions of {@code adapters-k8s/rbac.yaml}.
 */
public final class NamespaceWatcherExample {
  private static final String DEMO_LABEL = "fanout.dev/demo";
  // Keep a strong reference: java.util.logging forgets configured loggers that nobody holds.
  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  private NamespaceWatcherExample() {}

  /**
   * The cloud side of a tenant namespace: implement it with your SDKs (ACM, Route 53, SQS, SNS,
   * the Kong admin API, Zadig). Every method should be idempotent (create-if-absent,
   * delete-if-present) and answer interruption.
   */
  public interface TenantResources {
    /** Requests the namespace's certificate and returns its id (an ARN). */
    String requestCertificate(String namespace) throws Exception;

    void upsertDnsRecord(String namespace, String certificateId) throws Exception;

    void createQueues(String namespace) throws Exception;

    void createTopics(String namespace) throws Exception;

    void createRoutes(String namespace) throws Exception;

    void createWorkflows(String namespace) throws Exception;

    void deleteDnsRecord(String namespace) throws Exception;

    void deleteCertificate(String namespace) throws Exception;

    void deleteQueues(String namespace) throws Exception;

    void deleteTopics(String namespace) throws Exception;

    void deleteRoutes(String namespace) throws Exception;

    void deleteWorkflows(String namespace) throws Exception;
  }

  /** A tenant's plan: five resource kinds in parallel, DNS after the certificate. */
  public static ProvisioningPlan creationPlan(TenantResources cloud) {
    return ProvisioningPlan.builder("tenant", "1")
        .step("certificate", ctx -> ctx.setOutput(cloud.requestCertificate(ctx.namespace())))
        .step(
            "dns-record",
            ctx -> cloud.upsertDnsRecord(ctx.namespace(), certificateOf(ctx)),
            "certificate")
        .step("sqs-queues", ctx -> cloud.createQueues(ctx.namespace()))
        .step("sns-topics", ctx -> cloud.createTopics(ctx.namespace()))
        .step("kong-routes", ctx -> cloud.createRoutes(ctx.namespace()))
        .step("zadig-workflows", ctx -> cloud.createWorkflows(ctx.namespace()))
        .build();
  }

  /** The clean-up: the DNS record goes before its certificate; the rest in parallel. */
  public static ProvisioningPlan deletionPlan(TenantResources cloud) {
    return ProvisioningPlan.builder("tenant-cleanup", "1")
        .step("dns-record", ctx -> cloud.deleteDnsRecord(ctx.namespace()))
        .step("certificate", ctx -> cloud.deleteCertificate(ctx.namespace()), "dns-record")
        .step("sqs-queues", ctx -> cloud.deleteQueues(ctx.namespace()))
        .step("sns-topics", ctx -> cloud.deleteTopics(ctx.namespace()))
        .step("kong-routes", ctx -> cloud.deleteRoutes(ctx.namespace()))
        .step("zadig-workflows", ctx -> cloud.deleteWorkflows(ctx.namespace()))
        .build();
  }

  private static String certificateOf(StepContext ctx) {
    return ctx.output("certificate", String.class).orElseThrow();
  }

  /** Latency only: what the calls would cost, without a cloud. */
  static final class SimulatedResources implements TenantResources {
    private final double scale;

    SimulatedResources(double scale) {
      this.scale = scale;
    }

    private void call(long millis) throws InterruptedException {
      Thread.sleep(Duration.ofMillis(Math.round(millis * scale)));
    }

    @Override
    public String requestCertificate(String namespace) throws InterruptedException {
      call(500);
      return "arn:aws:acm:eu-west-1:123456789012:certificate/" + namespace;
    }

    @Override
    public void upsertDnsRecord(String namespace, String certificateId)
        throws InterruptedException {
      call(300);
    }

    @Override
    public void createQueues(String namespace) throws InterruptedException {
      call(400);
    }

    @Override
    public void createTopics(String namespace) throws InterruptedException {
      call(300);
    }

    @Override
    public void createRoutes(String namespace) throws InterruptedException {
      call(250);
    }

    @Override
    public void createWorkflows(String namespace) throws InterruptedException {
      call(600);
    }

    @Override
    public void deleteDnsRecord(String namespace) throws InterruptedException {
      call(200);
    }

    @Override
    public void deleteCertificate(String namespace) throws InterruptedException {
      call(200);
    }

    @Override
    public void deleteQueues(String namespace) throws InterruptedException {
      call(200);
    }

    @Override
    public void deleteTopics(String namespace) throws InterruptedException {
      call(150);
    }

    @Override
    public void deleteRoutes(String namespace) throws InterruptedException {
      call(100);
    }

    @Override
    public void deleteWorkflows(String namespace) throws InterruptedException {
      call(250);
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> options = options(args);
    int count = Integer.parseInt(options.getOrDefault("namespaces", "3"));
    double scale = Double.parseDouble(options.getOrDefault("scale", "1.0"));
    TenantResources cloud = new SimulatedResources(scale);
    String kubeconfig = options.get("kubeconfig");
    if (kubeconfig == null) {
      runOnEmbeddedServer(cloud, count);
    } else {
      runOnCluster(cloud, Path.of(kubeconfig), options);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static void runOnEmbeddedServer(TenantResources cloud, int count) throws Exception {
    MOCK_SERVER_LOG.setLevel(Level.WARNING);
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(Serialization.jsonMapper()),
            new MockWebServer(),
            responses,
            new KubernetesMixedDispatcher(responses),
            false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    System.out.println(
        "Embedded Kubernetes API server (fabric8 mock, CRUD mode) on "
            + server.getHostName()
            + ":"
            + server.getPort());
    Queue<PlanReport> created = new ConcurrentLinkedQueue<>();
    Queue<PlanReport> deleted = new ConcurrentLinkedQueue<>();
    try (KubernetesClient client = server.createClient();
        NamespaceWatcher watcher =
            NamespaceWatcher.builder(client)
                .labelSelector(DEMO_LABEL + "=true")
                .creationPlan(creationPlan(cloud))
                .deletionPlan(deletionPlan(cloud))
                .listener(
                    (phase, report) ->
                        (phase == PlanPhase.CREATION ? created : deleted).add(report))
                .build()) {
      watcher.start();
      while (!watcher.status().synced()) {
        Thread.sleep(10);
      }
      List<String> names =
          IntStream.rangeClosed(1, count).mapToObj(i -> "test" + (100 + i)).toList();
      System.out.printf("Creating %d namespaces at once: %s%n", count, String.join(", ", names));
      Instant calls = Instant.now();
      createAtOnce(client, names);
      Duration createCalls = Duration.between(calls, Instant.now());
      while (created.size() < count) {
        Thread.sleep(10);
      }
      Instant start = earliestStart(created);
      Duration actual = Duration.between(start, latestEnd(created));
      printTimeline(start, created);
      Duration onePerTurn =
          created.stream().map(PlanReport::elapsed).reduce(Duration.ZERO, Duration::plus);
      System.out.printf(
          Locale.ROOT,
          "One namespace at a time (sequential estimate): %.2f s; in parallel (actual): %.2f s,"
              + " %.1fx faster%n(the %d create calls themselves took %d ms)%n",
          seconds(onePerTurn),
          seconds(actual),
          seconds(onePerTurn) / Math.max(1e-9, seconds(actual)),
          count,
          createCalls.toMillis());
      System.out.printf(
          "Marked provisioned: %s=%s on %d namespace(s)%n",
          watcher.annotationKey(),
          watcher.creationPlan().version(),
          client.namespaces().withLabel(DEMO_LABEL, "true").list().getItems().stream()
              .filter(watcher::isProvisioned)
              .count());

      String gone = names.get(0);
      System.out.println("Deleting " + gone + " (runs the deletion plan)");
      client.namespaces().withName(gone).delete();
      while (deleted.isEmpty()) {
        Thread.sleep(10);
      }
      System.out.println(deleted.peek().summary());
      System.out.println("Status: " + watcher.status());
    } finally {
      server.destroy();
    }
  }

  private static void runOnCluster(
      TenantResources cloud, Path kubeconfig, Map<String, String> options) throws Exception {
    Config config = Config.fromKubeconfig(Files.readString(kubeconfig));
    int seconds = Integer.parseInt(options.getOrDefault("seconds", "60"));
    boolean create = Boolean.parseBoolean(options.getOrDefault("create", "false"));
    int count = Integer.parseInt(options.getOrDefault("namespaces", "3"));
    Queue<PlanReport> created = new ConcurrentLinkedQueue<>();
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
      NamespaceWatcher.Builder builder =
          NamespaceWatcher.builder(client)
              .labelSelector(DEMO_LABEL + "=true")
              .creationPlan(creationPlan(cloud))
              .deletionPlan(deletionPlan(cloud))
              .listener(
                  (phase, report) -> {
                    if (phase == PlanPhase.CREATION) {
                      created.add(report);
                    }
                  });
      String lease = options.get("lease");
      if (lease != null) {
        String[] parts = lease.split("/", 2);
        if (parts.length != 2) {
          throw new IllegalArgumentException("lease must be NAMESPACE/NAME, was '" + lease + "'");
        }
        builder.leaderElection(LeaderElection.lease(parts[0], parts[1]));
      }
      NamespaceWatcher watcher = builder.build();
      CountDownLatch stopped = new CountDownLatch(1);
      Thread hook =
          new Thread(
              () -> {
                watcher.close();
                stopped.countDown();
              },
              "namespace-watcher-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      watcher.start();
      System.out.printf(
          "Watching namespaces labelled %s=true on %s for %d s (Ctrl-C stops gracefully)%n",
          DEMO_LABEL, config.getMasterUrl(), seconds);
      List<String> names = List.of();
      if (create) {
        names = IntStream.rangeClosed(1, count).mapToObj(i -> "fanout-demo-" + i).toList();
        System.out.println("Creating " + names);
        createAtOnce(client, names);
      } else {
        System.out.println(
            "Label a namespace to see it provisioned: kubectl label namespace NAME "
                + DEMO_LABEL
                + "=true");
      }
      if (!stopped.await(seconds, java.util.concurrent.TimeUnit.SECONDS)) {
        if (!created.isEmpty()) {
          printTimeline(earliestStart(created), created);
        }
        for (String name : names) {
          client.namespaces().withName(name).delete();
        }
        watcher.close();
        Runtime.getRuntime().removeShutdownHook(hook);
      }
      System.out.println("Status: " + watcher.status());
    }
  }

  private static void createAtOnce(KubernetesClient client, List<String> names)
      throws InterruptedException {
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> creators = new ArrayList<>();
    for (String name : names) {
      creators.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      go.await();
                      client
                          .namespaces()
                          .resource(
                              new NamespaceBuilder()
                                  .withNewMetadata()
                                  .withName(name)
                                  .addToLabels(DEMO_LABEL, "true")
                                  .endMetadata()
                                  .build())
                          .create();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }));
    }
    go.countDown();
    for (Thread creator : creators) {
      creator.join();
    }
  }

  /** One row per step, one column per tick from {@code start}: the plan's diagram, measured. */
  private static void printTimeline(Instant start, Queue<PlanReport> reports) {
    List<PlanReport> sorted =
        reports.stream().sorted(Comparator.comparing(PlanReport::namespace)).toList();
    Duration total = Duration.between(start, latestEnd(sorted));
    long tickMillis = Math.max(10, total.toMillis() / 50 + 1);
    System.out.printf(
        "%nTimeline (ms from the first plan start; one column = %d ms)%n", tickMillis);
    for (PlanReport report : sorted) {
      long planOffset = Duration.between(start, report.startedAt()).toMillis();
      for (StepReport step : report.steps()) {
        long from = planOffset + step.startOffset().toMillis();
        long to = planOffset + step.endOffset().toMillis();
        int left = (int) (from / tickMillis);
        int width = (int) Math.max(1, to / tickMillis - left);
        char mark = step.status() == StepStatus.SUCCEEDED ? '#' : 'x';
        System.out.printf(
            Locale.ROOT,
            "%-8s %-16s %5d-%5d |%s%s%n",
            report.namespace(),
            step.step(),
            from,
            to,
            " ".repeat(left),
            String.valueOf(mark).repeat(width));
      }
    }
    System.out.println();
    sorted.forEach(report -> System.out.println(report.summary()));
  }

  private static Instant earliestStart(Iterable<PlanReport> reports) {
    Instant earliest = Instant.MAX;
    for (PlanReport report : reports) {
      if (report.startedAt().isBefore(earliest)) {
        earliest = report.startedAt();
      }
    }
    return earliest;
  }

  private static Instant latestEnd(Iterable<PlanReport> reports) {
    Instant latest = Instant.EPOCH;
    for (PlanReport report : reports) {
      Instant end = report.startedAt().plus(report.elapsed());
      if (end.isAfter(latest)) {
        latest = end;
      }
    }
    return latest;
  }

  private static double seconds(Duration duration) {
    return duration.toNanos() / 1e9;
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("arguments are key=value, got '" + arg + "'");
      }
      options.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    return options;
  }
}
