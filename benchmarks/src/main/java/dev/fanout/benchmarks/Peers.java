package dev.fanout.benchmarks;

import dev.fanout.FanOutReport;
import dev.fanout.ParallelConfig;
import dev.fanout.WorkerPool;
import dev.fanout.rate.RateGate;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryPolicy;
import io.github.bucket4j.BlockingBucket;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * The same fan-out written with each library a team might pick instead of fanout: at most {@code
 * workers} calls at once, at most one call started per {@code spacing} ({@link Duration#ZERO}: a
 * limiter so generous that it never waits, but still consulted), and up to {@code retries} retries
 * where the library retries. Every runner returns the calls' values in key order and throws if
 * any call failed for good, so a benchmark can check that the work was really done.
 *
 * <ul>
 *   <li>{@code sequential}: a loop, spaced by a {@link RateGate} when {@code spacing} is set: the
 *       code the scenarios started from.
 *   <li>{@code fanout}: a {@link WorkerPool} with a {@link RetryPolicy} and a {@link RateGate}.
 *   <li>{@code virtualThreads}: the JDK's virtual-thread-per-task executor, bounded by a {@link
 *       Semaphore}; no limiter, no retry (the floor the others are compared with).
 *   <li>{@code completableFuture}: {@link CompletableFuture#supplyAsync} on a fixed pool of {@code
 *       workers} platform threads; no limiter, no retry.
 *   <li>{@code resilience4j}: virtual threads, each call decorated with Retry(RateLimiter(
 *       Bulkhead(call))), the order Resilience4j documents.
 *   <li>{@code failsafe}: virtual threads, each call run by {@code Failsafe.with(retry)
 *       .compose(rateLimiter).compose(bulkhead)}.
 *   <li>{@code guava}, {@code bucket4j}: virtual threads bounded by a {@link Semaphore}, each
 *       call waiting for that library's limiter first (neither library retries).
 * </ul>
 */
public final class Peers {
  /** Every runner's name, in the order reports list them. */
  public static final List<String> NAMES =
      List.of(
          "fanout",
          "virtualThreads",
          "completableFuture",
          "resilience4j",
          "failsafe",
          "guava",
          "bucket4j",
          "sequential");

  /** "Never waits": a billion permits a second. */
  private static final long UNLIMITED_PER_SECOND = 1_000_000_000L;

  /** Retries wait this long; the scenarios' calls do not fail, so it is never paid. */
  private static final Duration RETRY_DELAY = Duration.ofMillis(1);

  /** Longest wait for a bulkhead or limiter permit before a call is refused. */
  private static final Duration MAX_WAIT = Duration.ofMinutes(1);

  private Peers() {}

  /** One call of a fan-out. */
  @FunctionalInterface
  interface Call<V> {
    V call(int key) throws Exception;
  }

  /** Runs every key's call, at most {@code workers} at once. */
  interface Runner extends AutoCloseable {
    <V> List<V> run(List<Integer> keys, Call<V> call) throws Exception;

    @Override
    void close();
  }

  static Runner create(String name, int workers, Duration spacing, int retries) {
    return switch (name) {
      case "sequential" -> new Sequential(spacing);
      case "fanout" -> new Fanout(workers, spacing, retries);
      case "virtualThreads" -> new VirtualThreads(workers, Decoration.NONE);
      case "completableFuture" -> new FixedPoolFutures(workers);
      case "resilience4j" -> resilience4j(workers, spacing, retries);
      case "failsafe" -> failsafe(workers, spacing, retries);
      case "guava" -> guava(workers, spacing);
      case "bucket4j" -> bucket4j(workers, spacing);
      default -> throw new IllegalArgumentException("unknown runner '" + name + "'; one of " + NAMES);
    };
  }

  /** Sleeps {@code millis}: a remote call scaled down. */
  static void simulatedCall(long millis) throws InterruptedException {
    Thread.sleep(millis);
  }

  private static double perSecond(Duration spacing) {
    return spacing.isZero() ? UNLIMITED_PER_SECOND : 1e9 / spacing.toNanos();
  }

  private static final class Sequential implements Runner {
    private final RateGate gate;

    Sequential(Duration spacing) {
      gate = RateGate.spacing(spacing);
    }

    @Override
    public <V> List<V> run(List<Integer> keys, Call<V> call) throws Exception {
      List<V> values = new ArrayList<>(keys.size());
      for (int key : keys) {
        gate.acquire();
        values.add(call.call(key));
      }
      return values;
    }

    @Override
    public void close() {}
  }

  private static final class Fanout implements Runner {
    private final WorkerPool pool;

    Fanout(int workers, Duration spacing, int retries) {
      RetryPolicy retry =
          RetryPolicy.builder()
              .maxAttempts(retries + 1)
              .backoff(Backoff.fixed(RETRY_DELAY))
              .build();
      RateGate gate =
          spacing.isZero()
              ? RateGate.perSecond(UNLIMITED_PER_SECOND, Integer.MAX_VALUE)
              : RateGate.spacing(spacing);
      pool =
          WorkerPool.builder(ParallelConfig.builder().concurrency(workers).build())
              .name("bench")
              .retryPolicy(retry)
              .rateGate(gate)
              .build();
    }

    @Override
    public <V> List<V> run(List<Integer> keys, Call<V> call) throws Exception {
      FanOutReport<Integer, V> report = pool.fanOutAndWait(keys, call::call);
      if (!report.allSucceeded()) {
        throw new IllegalStateException(report.summary(), report.errors().values().iterator().next());
      }
      Map<Integer, V> byKey = report.values();
      List<V> values = new ArrayList<>(keys.size());
      for (Integer key : keys) {
        values.add(byKey.get(key));
      }
      return values;
    }

    @Override
    public void close() {
      pool.close();
    }
  }

  /** How a virtual-thread runner wraps each call: a limiter, a resilience composition. */
  @FunctionalInterface
  private interface Decoration {
    Decoration NONE =
        new Decoration() {
          @Override
          public <V> Callable<V> decorate(Callable<V> call) {
            return call;
          }
        };

    <V> Callable<V> decorate(Callable<V> call);
  }

  private static final class VirtualThreads implements Runner {
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Semaphore permits;
    private final Decoration decoration;

    /** {@code workers} of 0: the decoration bounds concurrency itself (a bulkhead). */
    VirtualThreads(int workers, Decoration decoration) {
      this.permits = workers > 0 ? new Semaphore(workers) : null;
      this.decoration = decoration;
    }

    @Override
    public <V> List<V> run(List<Integer> keys, Call<V> call) throws Exception {
      List<Future<V>> futures = new ArrayList<>(keys.size());
      for (int key : keys) {
        Callable<V> decorated = decoration.decorate(() -> call.call(key));
        futures.add(executor.submit(permits == null ? decorated : bounded(decorated)));
      }
      return collect(futures);
    }

    private <V> Callable<V> bounded(Callable<V> call) {
      return () -> {
        permits.acquire();
        try {
          return call.call();
        } finally {
          permits.release();
        }
      };
    }

    @Override
    public void close() {
      executor.close();
    }
  }

  private static final class FixedPoolFutures implements Runner {
    private final ExecutorService executor;

    FixedPoolFutures(int workers) {
      executor = Executors.newFixedThreadPool(workers);
    }

    @Override
    public <V> List<V> run(List<Integer> keys, Call<V> call) {
      List<CompletableFuture<V>> futures = new ArrayList<>(keys.size());
      for (int key : keys) {
        futures.add(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return call.call(key);
                  } catch (Exception e) {
                    throw new CompletionException(e);
                  }
                },
                executor));
      }
      CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();
      return futures.stream().map(CompletableFuture::join).toList();
    }

    @Override
    public void close() {
      executor.close();
    }
  }

  private static Runner resilience4j(int workers, Duration spacing, int retries) {
    Bulkhead bulkhead =
        Bulkhead.of(
            "bench",
            BulkheadConfig.custom().maxConcurrentCalls(workers).maxWaitDuration(MAX_WAIT).build());
    RateLimiter limiter =
        RateLimiter.of(
            "bench",
            spacing.isZero()
                ? RateLimiterConfig.custom()
                    .limitForPeriod((int) UNLIMITED_PER_SECOND)
                    .limitRefreshPeriod(Duration.ofSeconds(1))
                    .timeoutDuration(MAX_WAIT)
                    .build()
                : RateLimiterConfig.custom()
                    .limitForPeriod(1)
                    .limitRefreshPeriod(spacing)
                    .timeoutDuration(MAX_WAIT)
                    .build());
    Retry retry =
        Retry.of(
            "bench", RetryConfig.custom().maxAttempts(retries + 1).waitDuration(RETRY_DELAY).build());
    return new VirtualThreads(
        0,
        new Decoration() {
          @Override
          public <V> Callable<V> decorate(Callable<V> call) {
            return Retry.decorateCallable(
                retry,
                RateLimiter.decorateCallable(limiter, Bulkhead.decorateCallable(bulkhead, call)));
          }
        });
  }

  private static Runner failsafe(int workers, Duration spacing, int retries) {
    dev.failsafe.RetryPolicy<Object> retry =
        dev.failsafe.RetryPolicy.builder().withMaxRetries(retries).withDelay(RETRY_DELAY).build();
    dev.failsafe.RateLimiter<Object> limiter =
        dev.failsafe.RateLimiter.smoothBuilder(
                spacing.isZero() ? Duration.ofNanos(1) : spacing)
            .withMaxWaitTime(MAX_WAIT)
            .build();
    dev.failsafe.Bulkhead<Object> bulkhead =
        dev.failsafe.Bulkhead.builder(workers).withMaxWaitTime(MAX_WAIT).build();
    dev.failsafe.FailsafeExecutor<Object> executor =
        dev.failsafe.Failsafe.with(retry).compose(limiter).compose(bulkhead);
    return new VirtualThreads(
        0,
        new Decoration() {
          @Override
          public <V> Callable<V> decorate(Callable<V> call) {
            return () -> executor.get(call::call);
          }
        });
  }

  private static Runner guava(int workers, Duration spacing) {
    @SuppressWarnings("UnstableApiUsage")
    com.google.common.util.concurrent.RateLimiter limiter =
        com.google.common.util.concurrent.RateLimiter.create(perSecond(spacing));
    return limitedVirtualThreads(workers, limiter::acquire);
  }

  private static Runner bucket4j(int workers, Duration spacing) {
    BlockingBucket bucket =
        Bucket.builder()
            .addLimit(
                limit ->
                    spacing.isZero()
                        ? limit
                            .capacity(UNLIMITED_PER_SECOND)
                            .refillGreedy(UNLIMITED_PER_SECOND, Duration.ofSeconds(1))
                        : limit.capacity(1).refillGreedy(1, spacing))
            .build()
            .asBlocking();
    return limitedVirtualThreads(workers, () -> bucket.consume(1));
  }

  /** Virtual threads bounded by a {@link Semaphore}, each call passing {@code limiter} first. */
  private static Runner limitedVirtualThreads(int workers, RateAccuracy.Acquirer limiter) {
    return new VirtualThreads(
        workers,
        new Decoration() {
          @Override
          public <V> Callable<V> decorate(Callable<V> call) {
            return () -> {
              limiter.acquire();
              return call.call();
            };
          }
        });
  }

  private static <V> List<V> collect(List<Future<V>> futures) throws InterruptedException {
    List<V> values = new ArrayList<>(futures.size());
    for (Future<V> future : futures) {
      try {
        values.add(future.get());
      } catch (ExecutionException e) {
        throw new IllegalStateException("a call failed for good", e.getCause());
      }
    }
    return values;
  }
}
