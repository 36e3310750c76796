package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WorkerPoolKeyedTest {
  private final CountingThreadFactory threads = new CountingThreadFactory();
  private final WorkerPool pool =
      WorkerPool.builder(ParallelConfig.builder().concurrency(8).build())
          .name("keyed")
          .threadFactory(threads)
          .build();

  @AfterEach
  void closePool() {
    pool.close();
    assertThat(threads.aliveThreads()).isEmpty();
  }

  /** Occupies every worker so that later submissions stay queued until {@link #release}. */
  private CountDownLatch blockAllWorkers() {
    CountDownLatch release = new CountDownLatch(1);
    for (int i = 0; i < 8; i++) {
      pool.submit(
          "blocker-" + i,
          key -> {
            release.await();
            return null;
          });
    }
    await().untilAsserted(() -> assertThat(pool.status().active()).isEqualTo(8));
    return release;
  }

  @Test
  void queuedSubmissionsCoalesceIntoOneRunOfTheNewestTask() throws Exception {
    CountDownLatch release = blockAllWorkers();
    AtomicInteger runs = new AtomicInteger();
    TaskHandle<String, String> first = pool.submit("ns", key -> "v1:" + runs.incrementAndGet());
    TaskHandle<String, String> second = pool.submit("ns", key -> "v2:" + runs.incrementAndGet());
    TaskHandle<String, String> third = pool.submit("ns", key -> "v3:" + runs.incrementAndGet());
    assertThat(pool.status().queued()).isEqualTo(1);
    release.countDown();

    Result<String, String> result = first.await();
    assertThat(result).isEqualTo(second.await()).isEqualTo(third.await());
    assertThat(result).isInstanceOfSatisfying(
        Result.Success.class, s -> assertThat(s.value()).isEqualTo("v3:1"));
    assertThat(runs.get()).isEqualTo(1);
  }

  @Test
  void joinWhileRunningSharesTheRun() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger runs = new AtomicInteger();
    TaskHandle<String, Integer> running =
        pool.submit(
            "ns",
            key -> {
              started.countDown();
              release.await();
              return runs.incrementAndGet();
            });
    started.await();
    TaskHandle<String, Integer> joined =
        pool.submit("ns", key -> runs.incrementAndGet() + 100, WhileRunning.JOIN);
    release.countDown();
    assertThat(joined.await()).isEqualTo(running.await());
    assertThat(runs.get()).isEqualTo(1);
  }

  @Test
  void rerunWhileRunningRunsOnceMoreAfterwards() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<String> order = new ArrayList<>();
    java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
    TaskHandle<String, String> firstRun =
        pool.submit(
            "ns",
            key -> {
              started.countDown();
              release.await();
              record(lock, order, "first");
              return "first";
            });
    started.await();
    TaskHandle<String, String> dirty1 =
        pool.submit("ns", key -> record(lock, order, "stale"), WhileRunning.RERUN);
    TaskHandle<String, String> dirty2 =
        pool.submit("ns", key -> record(lock, order, "newest"), WhileRunning.RERUN);
    assertThat(dirty1).isSameAs(dirty2);
    release.countDown();

    assertThat(firstRun.await().isSuccess()).isTrue();
    assertThat(dirty2.await()).isInstanceOfSatisfying(
        Result.Success.class, s -> assertThat(s.value()).isEqualTo("newest"));
    assertThat(order).containsExactly("first", "newest");
  }

  private static String record(
      java.util.concurrent.locks.ReentrantLock lock, List<String> order, String what) {
    lock.lock();
    try {
      order.add(what);
    } finally {
      lock.unlock();
    }
    return what;
  }

  @Test
  void sameKeyFromManyThreadsNeverRunsConcurrently() throws Exception {
    int keys = 16;
    ConcurrentHashMap<Integer, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    AtomicInteger worstOverlap = new AtomicInteger();
    AtomicLong runs = new AtomicLong();
    List<TaskHandle<Integer, Integer>> handles = new java.util.concurrent.CopyOnWriteArrayList<>();
    Task<Integer, Integer> task =
        key -> {
          AtomicInteger counter = inFlight.computeIfAbsent(key, k -> new AtomicInteger());
          worstOverlap.accumulateAndGet(counter.incrementAndGet(), Math::max);
          try {
            Thread.onSpinWait();
            if (ThreadLocalRandom.current().nextInt(4) == 0) {
              Thread.sleep(0, 100_000);
            }
            runs.incrementAndGet();
            return key;
          } finally {
            counter.decrementAndGet();
          }
        };
    List<Thread> submitters = new ArrayList<>();
    for (int t = 0; t < 32; t++) {
      submitters.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    for (int i = 0; i < 2_000; i++) {
                      WhileRunning mode = random.nextBoolean() ? WhileRunning.JOIN : WhileRunning.RERUN;
                      handles.add(pool.submit(random.nextInt(keys), task, mode));
                    }
                  }));
    }
    for (Thread submitter : submitters) {
      submitter.join();
    }
    for (TaskHandle<Integer, Integer> handle : handles) {
      assertThat(handle.await(Duration.ofSeconds(30))).isNotNull().matches(Result::isSuccess);
    }
    assertThat(worstOverlap.get()).isEqualTo(1);
    assertThat(runs.get()).isBetween((long) keys, 64_000L);
    await().untilAsserted(() -> assertThat(pool.status().active()).isZero());
  }

  @Test
  void cancelInterruptsRunningAndRemovesQueued() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicInteger interrupted = new AtomicInteger();
    TaskHandle<String, String> running =
        pool.submit(
            "running",
            key -> {
              started.countDown();
              try {
                new CountDownLatch(1).await();
              } catch (InterruptedException e) {
                interrupted.incrementAndGet();
                throw e;
              }
              return key;
            });
    started.await();
    CountDownLatch release = blockAllWorkersBut(1);
    AtomicInteger queuedRuns = new AtomicInteger();
    TaskHandle<String, Integer> queued = pool.submit("queued", key -> queuedRuns.incrementAndGet());
    assertThat(pool.status().queued()).isEqualTo(1);

    assertThat(pool.cancel("queued")).isTrue();
    assertThat(pool.status().queued()).isZero();
    assertThat(queued.await().isCancelled()).isTrue();
    assertThat(queued.await().attempts()).isZero();

    assertThat(running.cancel()).isTrue();
    assertThat(running.await().isCancelled()).isTrue();
    await().untilAsserted(() -> assertThat(interrupted.get()).isEqualTo(1));
    release.countDown();
    await().untilAsserted(() -> assertThat(pool.status().active()).isZero());
    assertThat(queuedRuns.get()).isZero();
    assertThat(pool.cancel("nothing")).isFalse();
  }

  private CountDownLatch blockAllWorkersBut(int busy) {
    CountDownLatch release = new CountDownLatch(1);
    for (int i = 0; i < 8 - busy; i++) {
      pool.submit(
          "blocker-" + i,
          key -> {
            release.await();
            return null;
          });
    }
    await().untilAsserted(() -> assertThat(pool.status().active()).isEqualTo(8));
    return release;
  }

  @Test
  void submissionAfterCancelRunsAfterTheCancelledTaskReturns() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch mayReturn = new CountDownLatch(1);
    AtomicInteger overlap = new AtomicInteger();
    AtomicInteger worst = new AtomicInteger();
    TaskHandle<String, String> creation =
        pool.submit(
            "ns",
            key -> {
              worst.accumulateAndGet(overlap.incrementAndGet(), Math::max);
              started.countDown();
              // Ignores the interrupt on purpose: it still must not overlap the next run.
              boolean released = false;
              while (!released) {
                try {
                  released = mayReturn.await(10, java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (InterruptedException ignored) {
                  // keep waiting for mayReturn
                }
              }
              overlap.decrementAndGet();
              return "created";
            });
    started.await();
    pool.cancel("ns");
    assertThat(creation.await().isCancelled()).isTrue();
    TaskHandle<String, String> deletion =
        pool.submit(
            "ns",
            key -> {
              worst.accumulateAndGet(overlap.incrementAndGet(), Math::max);
              overlap.decrementAndGet();
              return "deleted";
            },
            WhileRunning.JOIN);
    assertThat(deletion).isNotSameAs(creation);
    assertThat(deletion.isDone()).isFalse();
    mayReturn.countDown();
    assertThat(deletion.await()).isInstanceOfSatisfying(
        Result.Success.class, s -> assertThat(s.value()).isEqualTo("deleted"));
    assertThat(worst.get()).isEqualTo(1);
  }

  @Test
  void handleCancelLeavesFanOutsWithTheSameKeyAlone() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    ResultChannel<String, String> fanOut =
        pool.fanOut(
            java.util.List.of("shared"),
            key -> {
              release.await();
              return "fan-out";
            });
    TaskHandle<String, String> keyed =
        pool.submit(
            "shared",
            key -> {
              release.await();
              return "keyed";
            });
    await().untilAsserted(() -> assertThat(pool.status().active()).isEqualTo(2));
    assertThat(keyed.cancel()).isTrue();
    release.countDown();
    assertThat(keyed.await().isCancelled()).isTrue();
    assertThat(fanOut.awaitReport().values()).containsEntry("shared", "fan-out");
  }

  @Test
  void cancelAllCancelsEverythingButKeepsThePoolOpen() throws Exception {
    CountDownLatch release = blockAllWorkers();
    TaskHandle<String, String> queued = pool.submit("queued", key -> key);
    ResultChannel<Integer, Integer> fanOut = pool.fanOut(java.util.List.of(1, 2, 3), key -> key);
    assertThat(pool.cancelAll("leadership lost")).isEqualTo(8 + 1 + 3);
    assertThat(queued.await().isCancelled()).isTrue();
    assertThat(fanOut.awaitReport().cancelled()).isEqualTo(3);
    release.countDown();
    await().untilAsserted(() -> assertThat(pool.status().active()).isZero());
    assertThat(pool.submit("after", key -> "runs").await().isSuccess()).isTrue();
  }

  @Test
  void rejectsBadInput() {
    assertThatThrownBy(() -> pool.submit(null, key -> key)).hasMessage("key");
    assertThatThrownBy(() -> pool.submit("k", null)).hasMessage("task");
    assertThatThrownBy(() -> pool.submit("k", key -> key, null)).hasMessage("whileRunning");
    assertThatThrownBy(() -> pool.cancel(null)).hasMessage("key");
  }
}
