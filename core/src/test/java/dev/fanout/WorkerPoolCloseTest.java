package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class WorkerPoolCloseTest {
  private final CountingThreadFactory threads = new CountingThreadFactory();

  private WorkerPool pool(Duration shutdownTimeout) {
    return WorkerPool.builder(
            ParallelConfig.builder().concurrency(2).shutdownTimeout(shutdownTimeout).build())
        .name("closing")
        .threadFactory(threads)
        .build();
  }

  @Test
  void closeDrainsAcceptedWorkBeforeReturning() throws Exception {
    WorkerPool pool = pool(Duration.ofSeconds(30));
    AtomicInteger done = new AtomicInteger();
    ResultChannel<Integer, Integer> channel =
        pool.fanOut(
            IntStream.range(0, 20).boxed().toList(),
            key -> {
              Thread.sleep(5);
              return done.incrementAndGet();
            });
    pool.close();
    assertThat(done.get()).isEqualTo(20);
    assertThat(channel.awaitReport().succeeded()).isEqualTo(20);
    assertThat(threads.aliveThreads()).isEmpty();
  }

  @Test
  void closeRejectsNewWorkAndNothingOfItIsAccepted() {
    WorkerPool pool = pool(Duration.ofSeconds(1));
    pool.close();
    assertThat(pool.isClosed()).isTrue();
    assertThatThrownBy(() -> pool.fanOut(List.of(1), key -> key))
        .isInstanceOf(PoolClosedException.class)
        .hasMessage("worker pool 'closing' is closed and accepts no more work");
    assertThatThrownBy(() -> pool.submit("k", key -> key)).isInstanceOf(PoolClosedException.class);
    assertThat(pool.status().queued()).isZero();
    pool.close(); // idempotent
  }

  @Test
  void closeOutOfPatienceCancelsQueuedAndInterruptsRunningAndReportsAll() throws Exception {
    WorkerPool pool = pool(Duration.ofMillis(100));
    CountDownLatch running = new CountDownLatch(2);
    AtomicInteger interrupted = new AtomicInteger();
    ResultChannel<Integer, Integer> channel =
        pool.fanOut(
            IntStream.range(0, 10).boxed().toList(),
            key -> {
              running.countDown();
              try {
                new CountDownLatch(1).await();
              } catch (InterruptedException e) {
                interrupted.incrementAndGet();
                throw e;
              }
              return key;
            });
    await().untilAsserted(() -> assertThat(running.getCount()).isZero()); // both tasks started
    pool.close();
    assertThat(interrupted.get()).isEqualTo(2);
    FanOutReport<Integer, Integer> report = channel.awaitReport();
    assertThat(report.cancelled()).isEqualTo(10);
    assertThat(report.errors().get(9)).hasMessage("worker pool 'closing' closed before the task finished");
    assertThat(threads.aliveThreads()).isEmpty();
    assertThat(Threads.fanoutThreadNames()).doesNotContain("fanout-closing-timer");
  }

  @Test
  void aTaskThatIgnoresInterruptsIsReportedAndCloseReturnsAfterTheGrace() throws Exception {
    WorkerPool pool =
        WorkerPool.builder(
                ParallelConfig.builder().concurrency(2).shutdownTimeout(Duration.ofMillis(100)).build())
            .name("closing")
            .threadFactory(threads)
            .interruptGrace(Duration.ofMillis(200))
            .build();
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch running = new CountDownLatch(1);
    AtomicInteger interrupts = new AtomicInteger();
    TaskHandle<String, String> stubborn =
        pool.submit(
            "stubborn",
            key -> {
              running.countDown();
              while (true) {
                try {
                  release.await();
                  return key;
                } catch (InterruptedException e) {
                  interrupts.incrementAndGet(); // and carries on
                }
              }
            });
    running.await();
    Thread closer = Thread.ofPlatform().start(pool::close);
    await().atMost(Duration.ofSeconds(10)).until(() -> !closer.isAlive());
    assertThat(interrupts.get()).isEqualTo(1);
    assertThat(pool.stillRunning()).containsExactly("stubborn");
    assertThat(stubborn.await()).isInstanceOf(Result.Failure.class);
    assertThat(threads.aliveThreads()).hasSize(1);

    release.countDown();
    await().untilAsserted(() -> assertThat(pool.stillRunning()).isEmpty());
    await().untilAsserted(() -> assertThat(threads.aliveThreads()).isEmpty());
  }

  @Test
  void theInterruptGraceIsValidated() {
    assertThatThrownBy(
            () -> WorkerPool.builder(ParallelConfig.defaults()).interruptGrace(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("interruptGrace must not be negative, was PT-0.001S");
  }

  @Test
  void keyedRerunPendingAtCloseIsReportedNotLost() throws Exception {
    WorkerPool pool = pool(Duration.ofMillis(100));
    CountDownLatch started = new CountDownLatch(1);
    TaskHandle<String, String> first =
        pool.submit(
            "ns",
            key -> {
              started.countDown();
              new CountDownLatch(1).await();
              return key;
            });
    started.await();
    TaskHandle<String, String> rerun = pool.submit("ns", key -> key, WhileRunning.RERUN);
    pool.close();
    assertThat(first.await().isCancelled()).isTrue();
    assertThat(rerun.await().isCancelled()).isTrue();
  }

  @Test
  void aTaskCannotCloseItsOwnPool() throws Exception {
    WorkerPool pool = pool(Duration.ofSeconds(1));
    AtomicReference<Throwable> error = new AtomicReference<>();
    pool.submit(
            "self",
            key -> {
              try {
                pool.close();
              } catch (IllegalStateException e) {
                error.set(e);
              }
              return key;
            })
        .await();
    assertThat(error.get()).hasMessage("a task must not close its own pool 'closing'");
    pool.close();
  }

  @Test
  void interruptedCloseStillCancelsAndKeepsTheInterrupt() throws Exception {
    WorkerPool pool = pool(Duration.ofMinutes(5));
    CountDownLatch started = new CountDownLatch(1);
    TaskHandle<String, String> handle =
        pool.submit(
            "long",
            key -> {
              started.countDown();
              new CountDownLatch(1).await();
              return key;
            });
    started.await();
    Thread.currentThread().interrupt();
    try {
      pool.close();
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    assertThat(handle.await().isCancelled()).isTrue();
    assertThat(threads.aliveThreads()).isEmpty();
  }
}
