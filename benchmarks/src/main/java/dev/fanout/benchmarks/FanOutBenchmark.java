package dev.fanout.benchmarks;

import dev.fanout.FanOutReport;
import dev.fanout.ParallelConfig;
import dev.fanout.WorkerPool;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
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
 * Fan-out of simulated I/O: sequential vs {@link WorkerPool} vs a plain virtual-thread executor
 * (the JDK's {@code newVirtualThreadPerTaskExecutor}, bounded by a {@link Semaphore} where the
 * pool is bounded by {@code maxWorkers}). One operation is a whole fan-out; the score is its
 * average time.
 *
 * <ul>
 *   <li>{@code latency30x20ms}: 30 tasks of 20 ms each, 30 workers (the 30-customer scenario);
 *       ideal 20 ms, sequential 600 ms.
 *   <li>{@code latency10000x20ms}: 10,000 tasks of 20 ms on 1,000 workers; ideal 200 ms
 *       (50,000 tasks/s).
 *   <li>{@code noop10000}: 10,000 tasks that do nothing, 1,000 workers: the pool's own overhead.
 * </ul>
 *
 * Run (a JDK 21+ {@code java}; Maven's own JVM may be older):
 *
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar FanOutBenchmark
 * </pre>
 *
 * or, letting Maven pick the JDK: {@code mvn -B -q -Pbench -pl benchmarks -am verify -DskipTests
 * -Djmh.args="FanOutBenchmark"}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class FanOutBenchmark {

  /** Who runs the tasks. */
  @Param({"workerPool", "virtualThreads"})
  public String runner;

  private static final List<Integer> KEYS_30 = IntStream.range(0, 30).boxed().toList();
  private static final List<Integer> KEYS_10000 = IntStream.range(0, 10_000).boxed().toList();

  private WorkerPool pool30;
  private WorkerPool pool1000;

  @Setup(Level.Trial)
  public void setUp() {
    pool30 = WorkerPool.create(ParallelConfig.builder().maxWorkers(30).build());
    pool1000 = WorkerPool.create(ParallelConfig.builder().maxWorkers(1_000).build());
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    pool30.close();
    pool1000.close();
  }

  @Benchmark
  public int latency30x20ms() throws Exception {
    return run(KEYS_30, 30, FanOutBenchmark::sleep20ms);
  }

  @Benchmark
  public int latency10000x20ms() throws Exception {
    return run(KEYS_10000, 1_000, FanOutBenchmark::sleep20ms);
  }

  @Benchmark
  public int noop10000() throws Exception {
    return run(KEYS_10000, 1_000, key -> key);
  }

  /** The baseline the scenarios start from: one key after another. */
  @Benchmark
  @Measurement(iterations = 3, time = 2)
  public int sequential30x20ms() throws Exception {
    if (!runner.equals("workerPool")) {
      return 0; // one sequential baseline is enough
    }
    int sum = 0;
    for (int key : KEYS_30) {
      sum += sleep20ms(key);
    }
    return sum;
  }

  private int run(List<Integer> keys, int workers, IntTask task) throws Exception {
    if (runner.equals("workerPool")) {
      WorkerPool pool = workers == 30 ? pool30 : pool1000;
      FanOutReport<Integer, Integer> report = pool.fanOutAndWait(keys, task::call);
      if (report.succeeded() != keys.size()) {
        throw new IllegalStateException(report.summary());
      }
      return report.succeeded();
    }
    Semaphore permits = new Semaphore(workers);
    try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Integer>> futures = new ArrayList<>(keys.size());
      for (Integer key : keys) {
        futures.add(
            executor.submit(
                () -> {
                  permits.acquire();
                  try {
                    return task.call(key);
                  } finally {
                    permits.release();
                  }
                }));
      }
      int done = 0;
      for (Future<Integer> future : futures) {
        try {
          future.get();
          done++;
        } catch (ExecutionException e) {
          throw new IllegalStateException(e);
        }
      }
      return done;
    }
  }

  @FunctionalInterface
  interface IntTask {
    Integer call(Integer key) throws Exception;
  }

  private static Integer sleep20ms(Integer key) throws InterruptedException {
    Thread.sleep(20);
    return key;
  }
}
