package dev.fanout.benchmarks;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
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
 * The EKS scan, scaled 100x: list the clusters of 10 accounts x 5 regions (50 calls of 20 ms),
 * then configure the 20 clusters found (20 calls of 20 ms), every call passing one shared limiter
 * of one start per 1 ms (the default preset's 100 ms between requests). The default preset's shape: 10
 * workers, 3 retries. {@code sequential} is one call after another (1.4 s); every other runner is the
 * same two fan-outs on fanout or on a peer library ({@link Peers}). Ideal parallel time: 5 rounds
 * of 10 listings and 2 rounds of 10 configurations, 140 ms, 10x sequential.
 *
 * <pre>
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar AccountScanBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AccountScanBenchmark {
  static final int ACCOUNTS = 10;
  static final int REGIONS = 5;
  static final int CLUSTERS = 20;
  static final long CALL_MILLIS = 20;
  static final Duration SPACING = Duration.ofMillis(1);
  static final int WORKERS = 10;
  static final int RETRIES = 3;

  private static final List<Integer> ACCOUNT_REGIONS =
      IntStream.range(0, ACCOUNTS * REGIONS).boxed().toList();

  @Param({"sequential", "fanout", "resilience4j", "failsafe", "guava", "bucket4j"})
  public String runner;

  private Peers.Runner running;

  @Setup(Level.Trial)
  public void setUp() {
    running = Peers.create(runner, WORKERS, SPACING, RETRIES);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    running.close();
  }

  /** The number of clusters configured. */
  @Benchmark
  public int scanAndConfigure() throws Exception {
    List<Integer> found =
        running.run(ACCOUNT_REGIONS, AccountScanBenchmark::listClusters).stream()
            .flatMap(List::stream)
            .toList();
    if (found.size() != CLUSTERS) {
      throw new IllegalStateException(found.size() + " clusters found, expected " + CLUSTERS);
    }
    List<Boolean> configured = running.run(found, AccountScanBenchmark::configure);
    return (int) configured.stream().filter(Objects::nonNull).count();
  }

  /** The clusters of one account-region: 20 clusters spread over the first 20 of 50. */
  static List<Integer> listClusters(int accountRegion) throws InterruptedException {
    Peers.simulatedCall(CALL_MILLIS);
    return accountRegion < CLUSTERS ? List.of(accountRegion) : List.of();
  }

  static Boolean configure(int cluster) throws InterruptedException {
    Peers.simulatedCall(CALL_MILLIS);
    return Boolean.TRUE;
  }
}
