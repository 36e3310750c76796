package dev.fanout.benchmarks;

import dev.fanout.rate.RateGate;
import io.github.bucket4j.BlockingBucket;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Duration;
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
 * The cost of passing a rate limiter that never has to wait: fanout's {@link RateGate} against
 * Guava's {@code RateLimiter}, Bucket4j's lock-free bucket and Resilience4j's
 * {@code AtomicRateLimiter}, each at 10^9 permits per second with a burst of 10^9, through its
 * blocking "acquire" call. Uncontended (one thread) and contended (four threads on one limiter).
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
public class RateGateBenchmark {
  private static final int RATE = 1_000_000_000;

  /** {@code clock} is no limiter: one {@link System#nanoTime()}, the floor every limiter pays. */
  @Param({"fanout", "guava", "bucket4j", "resilience4j", "clock"})
  public String limiter;

  private Acquirer acquirer;

  /** One way of passing a limiter. */
  @FunctionalInterface
  interface Acquirer {
    boolean acquire() throws InterruptedException;
  }

  @Setup
  public void setUp() {
    acquirer =
        switch (limiter) {
          case "fanout" -> {
            RateGate gate = RateGate.perSecond(RATE, RATE);
            yield () -> {
              gate.acquire();
              return true;
            };
          }
          case "guava" -> {
            @SuppressWarnings("UnstableApiUsage")
            com.google.common.util.concurrent.RateLimiter guava =
                com.google.common.util.concurrent.RateLimiter.create(RATE);
            yield () -> guava.acquire() >= 0;
          }
          case "bucket4j" -> {
            BlockingBucket bucket =
                Bucket.builder()
                    .addLimit(l -> l.capacity(RATE).refillGreedy(RATE, Duration.ofSeconds(1)))
                    .build()
                    .asBlocking();
            yield () -> {
              bucket.consume(1);
              return true;
            };
          }
          case "resilience4j" -> {
            RateLimiter r4j =
                RateLimiter.of(
                    "bench",
                    RateLimiterConfig.custom()
                        .limitForPeriod(RATE)
                        .limitRefreshPeriod(Duration.ofSeconds(1))
                        .timeoutDuration(Duration.ofSeconds(5))
                        .build());
            yield r4j::acquirePermission;
          }
          case "clock" -> () -> System.nanoTime() != 0;
          default -> throw new IllegalArgumentException("unknown limiter " + limiter);
        };
  }

  @Benchmark
  @Threads(1)
  public boolean uncontended() throws InterruptedException {
    return acquirer.acquire();
  }

  @Benchmark
  @Threads(4)
  public boolean contended4() throws InterruptedException {
    return acquirer.acquire();
  }
}
