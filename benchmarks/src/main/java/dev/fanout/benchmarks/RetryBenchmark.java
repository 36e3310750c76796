package dev.fanout.benchmarks;

import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeExecutor;
import dev.fanout.Policies;
import dev.fanout.rate.RateGate;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryBudget;
import dev.fanout.retry.RetryPolicy;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The happy path of a retry policy: a call that succeeds at once, under "3 retries, exponential
 * backoff from 1 s" ({@link RetryPolicy#ofRetries ofRetries(3)}) in fanout's {@link RetryPolicy} ({@code call} and
 * {@code execute}, with and without a shared {@link RetryBudget}), Failsafe's
 * {@code RetryPolicy} and Resilience4j's {@code Retry}; {@code direct} calls the task bare.
 *
 * <p>Run, for example (needs a JDK 21+ {@code java}):
 *
 * <pre>
 * mvn -B -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/benchmarks.jar 'RateGateBenchmark|RetryBenchmark' -f 1 -wi 2 -w 1s -i 3 -r 1s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class RetryBenchmark {

  @Param({
    "direct",
    "fanout",
    "fanout-execute",
    "fanout-budget",
    "policies",
    "policies-execute",
    "policies-gate-timeout",
    "failsafe",
    "resilience4j"
  })
  public String policy;

  private Callable<Object> guarded;
  private long calls;

  private Object task() {
    return ++calls;
  }

  @Setup
  public void setUp() {
    Callable<Object> task = this::task;
    guarded =
        switch (policy) {
          case "direct" -> task;
          case "fanout" -> {
            RetryPolicy p = RetryPolicy.ofRetries(3);
            yield () -> p.call(task);
          }
          case "fanout-execute" -> {
            RetryPolicy p = RetryPolicy.ofRetries(3);
            yield () -> p.execute(task) instanceof Outcome.Success<Object> s ? s.value() : null;
          }
          case "fanout-budget" -> {
            RetryPolicy p = RetryPolicy.ofRetries(3).toBuilder().budget(RetryBudget.standard()).build();
            yield () -> p.call(task);
          }
          case "policies" -> {
            Policies<String> p = Policies.<String>builder().retry(RetryPolicy.ofRetries(3)).build();
            yield () -> p.call("key", task);
          }
          case "policies-execute" -> {
            Policies<String> p = Policies.<String>builder().retry(RetryPolicy.ofRetries(3)).build();
            yield () -> p.execute("key", task) instanceof Outcome.Success<Object> s ? s.value() : null;
          }
          case "policies-gate-timeout" -> {
            Policies<String> p =
                Policies.<String>builder()
                    .retry(RetryPolicy.ofRetries(3))
                    .rateGate(RateGate.unlimited())
                    .attemptTimeout(Duration.ofMinutes(1))
                    .build();
            yield () -> p.call("key", task);
          }
          case "failsafe" -> {
            FailsafeExecutor<Object> executor =
                Failsafe.with(
                    dev.failsafe.RetryPolicy.builder()
                        .withMaxRetries(3)
                        .withBackoff(Duration.ofSeconds(1), Duration.ofMinutes(1))
                        .build());
            yield () -> executor.get(this::task);
          }
          case "resilience4j" -> {
            Retry retry =
                Retry.of(
                    "bench",
                    RetryConfig.custom()
                        .maxAttempts(4)
                        .intervalFunction(IntervalFunction.ofExponentialBackoff(1000, 2.0))
                        .build());
            yield Retry.decorateCallable(retry, task);
          }
          default -> throw new IllegalArgumentException("unknown policy " + policy);
        };
  }

  @Benchmark
  public Object happyPath() throws Exception {
    return guarded.call();
  }
}
