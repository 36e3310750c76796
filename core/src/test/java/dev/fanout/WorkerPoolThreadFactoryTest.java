package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WorkerPoolThreadFactoryTest {

  @Test
  void aTaskWhoseWorkerCouldNotBeMadeStaysQueuedAndRunsOnTheNextWorker() throws Exception {
    AtomicInteger made = new AtomicInteger();
    ThreadFactory failsOnce =
        task -> {
          if (made.incrementAndGet() == 1) {
            throw new IllegalStateException("no thread for you");
          }
          return Thread.ofVirtual().unstarted(task);
        };
    AtomicInteger ranA = new AtomicInteger();
    try (WorkerPool pool =
        WorkerPool.builder(ParallelConfig.builder().concurrency(1).build())
            .threadFactory(failsOnce)
            .build()) {
      assertThatThrownBy(() -> pool.submit("a", key -> ranA.incrementAndGet()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("no thread for you");
      // Not lost: it waits in the queue for a worker.
      assertThat(pool.status().queued()).isEqualTo(1);

      TaskHandle<String, String> b = pool.submit("b", key -> "B");

      Result<String, String> resultB = b.await(Duration.ofSeconds(10));
      assertThat(resultB).isNotNull();
      assertThat(resultB.isSuccess()).isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> pool.status().completed() == 2);
      assertThat(ranA).hasValue(1);
      assertThat(pool.status().queued()).isZero();
    }
  }

  @Test
  void workersMadeBeforeTheFactoryFailedStillStartAndTheRestWaitForThem() throws Exception {
    AtomicInteger made = new AtomicInteger();
    ThreadFactory failsOnTheSecond =
        task -> {
          if (made.incrementAndGet() == 2) {
            throw new IllegalStateException("no second thread");
          }
          return Thread.ofVirtual().unstarted(task);
        };
    try (WorkerPool pool =
        WorkerPool.builder(ParallelConfig.builder().concurrency(4).build())
            .threadFactory(failsOnTheSecond)
            .build()) {
      FanOutReport<Integer, Integer> report =
          pool.fanOutAndWait(java.util.List.of(1, 2, 3, 4, 5, 6), key -> key * 10);

      assertThat(report.allSucceeded()).isTrue();
      assertThat(report.values()).hasSize(6);
    }
  }
}
