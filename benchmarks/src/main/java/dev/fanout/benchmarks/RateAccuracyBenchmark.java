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
 * How close each limiter's real rate comes to the configured one: four threads acquire permits
 * as fast as the limiter lets them, from a limiter set to {@value #RATE} permits a second (one
 * every millisecond, the default preset's 100 ms between requests scaled 100x) with no burst. The score
 * (operations a second, all threads together) is the measured rate; the ideal is {@value #RATE}.
 * {@link RateAccuracy} looks closer: the worst windows and how fairly threads are served.
 *
 * <pre>
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar RateAccuracyBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@Threads(4)
public class RateAccuracyBenchmark {
  /** The configured rate, permits a second. */
  public static final int RATE = 1_000;

  @Param({"fanout", "guava", "bucket4j", "resilience4j", "failsafe"})
  public String limiter;

  private RateAccuracy.Acquirer acquirer;

  @Setup
  public void setUp() {
    Duration spacing = Duration.ofSeconds(1).dividedBy(RATE);
    acquirer =
        switch (limiter) {
          case "fanout" -> RateGate.spacing(spacing)::acquire;
          case "guava" -> {
            @SuppressWarnings("UnstableApiUsage")
            com.google.common.util.concurrent.RateLimiter guava =
                com.google.common.util.concurrent.RateLimiter.create(RATE);
            yield guava::acquire;
          }
          case "bucket4j" -> {
            BlockingBucket bucket =
                Bucket.builder()
                    .addLimit(l -> l.capacity(1).refillGreedy(1, spacing))
                    .build()
                    .asBlocking();
            yield () -> bucket.consume(1);
          }
          case "resilience4j" -> {
            RateLimiter r4j =
                RateLimiter.of(
                    "accuracy",
                    RateLimiterConfig.custom()
                        .limitForPeriod(1)
                        .limitRefreshPeriod(spacing)
                        .timeoutDuration(Duration.ofSeconds(30))
                        .build());
            yield () -> {
              if (!r4j.acquirePermission()) {
                throw new IllegalStateException("resilience4j refused a permit");
              }
            };
          }
          case "failsafe" -> {
            dev.failsafe.RateLimiter<Object> failsafe =
                dev.failsafe.RateLimiter.smoothBuilder(spacing)
                    .withMaxWaitTime(Duration.ofSeconds(30))
                    .build();
            yield failsafe::acquirePermit;
          }
          default -> throw new IllegalArgumentException("unknown limiter " + limiter);
        };
  }

  @Benchmark
  public void acquire() throws InterruptedException {
    acquirer.acquire();
  }
}
