package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.CountDownLatch;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class WorkerPoolMetricsTest {

  @Test
  void poolPublishesActiveQueuedCountsAndDurationsAndRemovesThemOnClose() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    WorkerPool pool =
        WorkerPool.builder(ParallelConfig.builder().concurrency(2).build())
            .name("metered")
            .meterRegistry(registry)
            .build();
    CountDownLatch release = new CountDownLatch(1);
    ResultChannel<Integer, Integer> channel =
        pool.fanOut(
            IntStream.range(0, 10).boxed().toList(),
            key -> {
              release.await();
              if (key == 0) {
                throw new IllegalStateException();
              }
              return key;
            });
    await().untilAsserted(
        () -> assertThat(registry.get("fanout.pool.active").tag("name", "metered").gauge().value()).isEqualTo(2.0));
    assertThat(registry.get("fanout.pool.queued").gauge().value()).isEqualTo(8.0);
    release.countDown();
    channel.awaitReport();

    assertThat(registry.get("fanout.pool.tasks").tag("outcome", "completed").functionCounter().count())
        .isEqualTo(9.0);
    assertThat(registry.get("fanout.pool.tasks").tag("outcome", "failed").functionCounter().count())
        .isEqualTo(1.0);
    assertThat(registry.get("fanout.pool.task.duration").tag("outcome", "success").timer().count())
        .isEqualTo(9);
    assertThat(registry.get("fanout.pool.task.duration").tag("outcome", "failure").timer().count())
        .isEqualTo(1);
    pool.close();
    assertThat(registry.getMeters()).isEmpty();
  }

  /** Regression: Micrometer holds a gauge's state weakly; the pool's state object must live on. */
  @Test
  void gaugesStillReadAfterGarbageCollection() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (WorkerPool pool =
        WorkerPool.builder(ParallelConfig.builder().concurrency(2).build())
            .name("collected")
            .meterRegistry(registry)
            .build()) {
      pool.fanOutAndWait(java.util.List.of(1, 2, 3), key -> key);
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      assertThat(registry.get("fanout.pool.queued").gauge().value()).isZero();
      assertThat(registry.get("fanout.pool.tasks").tag("outcome", "completed").functionCounter().count())
          .isEqualTo(3.0);
    }
  }
}
