package dev.fanout.benchmarks;

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
 * The same fan-out on fanout and on what a team would write instead ({@link Peers}): one
 * operation is a whole fan-out, the score its average time.
 *
 * <ul>
 *   <li>{@code noop10000}: 10,000 calls that do nothing, 100 at once: what each runner itself
 *       costs. fanout, Resilience4j and Failsafe each consult a retry policy, a limiter that never
 *       waits and a concurrency bound; {@code virtualThreads} and {@code completableFuture} only
 *       bound concurrency.
 *   <li>{@code io1000x20ms}: 1,000 calls of 20 ms, 100 at once; ideal 200 ms.
 * </ul>
 *
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar PeerBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PeerBenchmark {
  private static final int WORKERS = 100;
  private static final int RETRIES = 3;
  private static final List<Integer> KEYS_10000 = IntStream.range(0, 10_000).boxed().toList();
  private static final List<Integer> KEYS_1000 = IntStream.range(0, 1_000).boxed().toList();

  @Param({
    "fanout",
    "virtualThreads",
    "completableFuture",
    "resilience4j",
    "failsafe",
    "guava",
    "bucket4j"
  })
  public String runner;

  private Peers.Runner running;

  @Setup(Level.Trial)
  public void setUp() {
    running = Peers.create(runner, WORKERS, Duration.ZERO, RETRIES);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    running.close();
  }

  @Benchmark
  public int noop10000() throws Exception {
    return check(running.run(KEYS_10000, key -> key), KEYS_10000.size());
  }

  @Benchmark
  public int io1000x20ms() throws Exception {
    return check(
        running.run(
            KEYS_1000,
            key -> {
              Peers.simulatedCall(20);
              return key;
            }),
        KEYS_1000.size());
  }

  static int check(List<?> values, int expected) {
    if (values.size() != expected) {
      throw new IllegalStateException(values.size() + " values of " + expected);
    }
    return values.size();
  }
}
