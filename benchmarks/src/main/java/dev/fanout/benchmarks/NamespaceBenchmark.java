package dev.fanout.benchmarks;

import dev.fanout.k8s.PlanReport;
import dev.fanout.k8s.PlanStatus;
import dev.fanout.k8s.ProvisioningPlan;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Provisioning new namespaces, scaled 100x: 3 namespaces arrive at once, and each runs the
 * watcher's plan of six 20 ms steps: certificate, queues, topics, routes and workflows at once,
 * DNS after the certificate. {@code sequential} provisions one namespace after another, one step
 * after another (360 ms); {@code fanout} runs the namespaces on a {@link dev.fanout.WorkerPool}
 * and each namespace's {@link ProvisioningPlan} with its steps in parallel, as the namespace
 * watcher does (ideal 40 ms: the certificate, then DNS).
 *
 * <pre>
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar NamespaceBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class NamespaceBenchmark {
  static final long STEP_MILLIS = 20;
  static final int NAMESPACES = 3;

  private static final List<Integer> KEYS = IntStream.range(0, NAMESPACES).boxed().toList();
  private static final List<Namespace> NAMESPACE_OBJECTS =
      KEYS.stream()
          .map(i -> new NamespaceBuilder().withNewMetadata().withName("team-" + i).endMetadata().build())
          .toList();

  @Param({"sequential", "fanout"})
  public String runner;

  private ProvisioningPlan plan;
  private Peers.Runner running;

  @Setup(Level.Trial)
  public void setUp() {
    plan =
        ProvisioningPlan.builder("tenant", "v1")
            .step("certificate", context -> step())
            .step("queues", context -> step())
            .step("topics", context -> step())
            .step("routes", context -> step())
            .step("workflows", context -> step())
            .step("dns", context -> step(), "certificate")
            .build();
    running = Peers.create(runner, 10, Duration.ZERO, 0);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    running.close();
  }

  /** The number of namespaces provisioned. */
  @Benchmark
  public int provision() throws Exception {
    List<Boolean> done =
        running.run(
            KEYS,
            runner.equals("sequential")
                ? NamespaceBenchmark::stepByStep
                : key -> provisioned(plan.run(NAMESPACE_OBJECTS.get(key))));
    return PeerBenchmark.check(done, NAMESPACES);
  }

  /** The plan's steps one after another, in an order that respects DNS after the certificate. */
  private static Boolean stepByStep(int namespace) throws InterruptedException {
    for (int i = 0; i < 6; i++) {
      step();
    }
    return Boolean.TRUE;
  }

  private static Boolean provisioned(PlanReport report) {
    if (report.status() != PlanStatus.SUCCEEDED) {
      throw new IllegalStateException("plan did not succeed: " + report);
    }
    return Boolean.TRUE;
  }

  private static void step() throws InterruptedException {
    Peers.simulatedCall(STEP_MILLIS);
  }
}
