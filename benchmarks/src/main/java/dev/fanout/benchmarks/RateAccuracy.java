package dev.fanout.benchmarks;

import dev.fanout.rate.RateGate;
import io.github.bucket4j.BlockingBucket;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;

/**
 * Not a JMH benchmark: how exact and how fair each limiter is on the real clock. Many threads
 * hammer one limiter set to {@code rate} permits per second (burst 1 where the library has a
 * notion of burst) for a few seconds; every pass is time-stamped when {@code acquire} returns.
 * Reported per limiter: the most passes seen in any window of 10 ms, 100 ms and 1 s against the
 * bound {@code 1 + rate * t}, and how evenly the threads were served (fewest and most permits of
 * one thread). Each limiter runs twice: right after creation, and after standing idle for a
 * second (which shows what a limiter saves up while idle).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.fanout.benchmarks.RateAccuracy [rate] [threads] [seconds]
 * </pre>
 */
public final class RateAccuracy {
  private RateAccuracy() {}

  @FunctionalInterface
  interface Acquirer {
    void acquire() throws InterruptedException;
  }

  public static void main(String[] args) throws Exception {
    int rate = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 16;
    double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 3;
    System.out.printf(
        Locale.ROOT, "rate %d/s, %d threads, %.1f s; bound = 1 + rate * t%n", rate, threads, seconds);
    System.out.printf(
        Locale.ROOT,
        "%-23s %9s %9s %9s %9s %9s %9s %8s %8s%n",
        "limiter",
        "max 10ms",
        "bound",
        "max 100ms",
        "bound",
        "max 1s",
        "bound",
        "fewest",
        "most");
    for (boolean idleFirst : new boolean[] {false, true}) {
      for (String name : List.of("fanout", "guava", "bucket4j", "resilience4j")) {
        Acquirer limiter = limiter(name, rate);
        if (idleFirst) {
          Thread.sleep(1_000);
        }
        run(name + (idleFirst ? " (idle 1s)" : ""), limiter, rate, threads, seconds);
      }
    }
  }

  private static Acquirer limiter(String name, int rate) {
    return switch (name) {
      case "fanout" -> RateGate.perSecond(rate, 1)::acquire;
      case "guava" -> {
        @SuppressWarnings("UnstableApiUsage")
        com.google.common.util.concurrent.RateLimiter guava =
            com.google.common.util.concurrent.RateLimiter.create(rate);
        yield guava::acquire;
      }
      case "bucket4j" -> {
        BlockingBucket bucket =
            Bucket.builder()
                .addLimit(l -> l.capacity(1).refillGreedy(rate, Duration.ofSeconds(1)))
                .build()
                .asBlocking();
        yield () -> bucket.consume(1);
      }
      case "resilience4j" -> {
        RateLimiter r4j =
            RateLimiter.of(
                "accuracy",
                RateLimiterConfig.custom()
                    .limitForPeriod(rate)
                    .limitRefreshPeriod(Duration.ofSeconds(1))
                    .timeoutDuration(Duration.ofSeconds(30))
                    .build());
        yield () -> {
          if (!r4j.acquirePermission()) {
            throw new IllegalStateException("resilience4j refused a permit");
          }
        };
      }
      default -> throw new IllegalArgumentException(name);
    };
  }

  private static void run(String name, Acquirer limiter, int rate, int threads, double seconds)
      throws InterruptedException {
    long start = System.nanoTime();
    long end = start + (long) (seconds * 1e9);
    ConcurrentLinkedQueue<Long> passes = new ConcurrentLinkedQueue<>();
    int[] perThread = new int[threads];
    CountDownLatch done = new CountDownLatch(threads);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      workers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      while (System.nanoTime() < end) {
                        limiter.acquire();
                        long now = System.nanoTime();
                        if (now <= end) {
                          passes.add(now);
                          perThread[id]++;
                        }
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    } finally {
                      done.countDown();
                    }
                  }));
    }
    done.await();
    long[] times = passes.stream().mapToLong(Long::longValue).sorted().toArray();
    int fewest = Arrays.stream(perThread).min().orElse(0);
    int most = Arrays.stream(perThread).max().orElse(0);
    System.out.printf(
        Locale.ROOT,
        "%-23s %9d %9.0f %9d %9.0f %9d %9.0f %8d %8d%n",
        name,
        maxInWindow(times, 10_000_000L),
        1 + rate * 0.01,
        maxInWindow(times, 100_000_000L),
        1 + rate * 0.1,
        maxInWindow(times, 1_000_000_000L),
        1 + rate * 1.0,
        fewest,
        most);
  }

  /** The most time stamps within any closed window of {@code window} nanoseconds. */
  static int maxInWindow(long[] sorted, long window) {
    int best = 0;
    int i = 0;
    for (int j = 0; j < sorted.length; j++) {
      while (sorted[j] - sorted[i] > window) {
        i++;
      }
      best = Math.max(best, j - i + 1);
    }
    return best;
  }
}
