package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WorkerPoolFanOutTest {
  private final CountingThreadFactory threads = new CountingThreadFactory();
  private WorkerPool pool =
      WorkerPool.builder(ParallelConfig.builder().concurrency(4).build())
          .name("test")
          .threadFactory(threads)
          .build();

  @AfterEach
  void closePool() {
    pool.close();
    assertThat(threads.aliveThreads()).isEmpty();
  }

  private static List<Integer> keys(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  @Test
  void everyKeyGetsExactlyOneResultInCompletionOrder() throws Exception {
    FanOutReport<Integer, Integer> report =
        pool.fanOutAndWait(
            keys(50),
            key -> {
              if (key % 10 == 3) {
                throw new IllegalStateException("bad " + key);
              }
              return key * 2;
            });

    assertThat(report.total()).isEqualTo(50);
    assertThat(report.succeeded()).isEqualTo(45);
    assertThat(report.failed()).isEqualTo(5);
    assertThat(report.values()).containsEntry(7, 14).doesNotContainKey(13);
    assertThat(report.errors().get(13)).isInstanceOf(IllegalStateException.class).hasMessage("bad 13");
    assertThat(report.failures().get(13).attempts()).isEqualTo(1);
    assertThat(report.summary()).matches("45 succeeded, 5 failed of 50 in \\d+\\.\\d s");
  }

  @Test
  void neverRunsMoreThanMaxWorkersAtOnce() throws Exception {
    AtomicInteger running = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    pool.fanOutAndWait(
        keys(200),
        key -> {
          peak.accumulateAndGet(running.incrementAndGet(), Math::max);
          Thread.sleep(1);
          running.decrementAndGet();
          return key;
        });
    assertThat(peak.get()).isEqualTo(4);
    assertThat(threads.peak()).isLessThanOrEqualTo(4);
  }

  @Test
  void channelIterationEndsByItselfAfterTheExpectedResults() {
    List<Result<Integer, String>> seen = new ArrayList<>();
    try (ResultChannel<Integer, String> channel = pool.fanOut(keys(20), String::valueOf)) {
      for (Result<Integer, String> result : channel) {
        seen.add(result);
      }
      assertThat(channel.isDone()).isTrue();
    }
    assertThat(seen).hasSize(20).allMatch(Result::isSuccess);
    assertThat(seen.stream().map(Result::key)).containsExactlyInAnyOrderElementsOf(keys(20));
  }

  @Test
  void emptyFanOutEndsAtOnce() throws Exception {
    FanOutReport<Integer, Integer> report = pool.fanOutAndWait(List.of(), key -> key);
    assertThat(report.total()).isZero();
    assertThat(report.summary()).startsWith("0 succeeded, 0 failed of 0 in ");
  }

  @Test
  void slowConsumerHoldsWorkersBackThroughABoundedChannel() throws Exception {
    AtomicInteger started = new AtomicInteger();
    ResultChannel<Integer, Integer> channel =
        pool.fanOut(
            keys(100),
            key -> {
              started.incrementAndGet();
              return key;
            },
            FanOutOptions.of(pool.config()).withResultCapacity(2));
    // 2 buffered + 4 workers blocked holding a finished result each: the 6 that start, and then
    // no more for as long as nobody takes a result.
    await().untilAsserted(() -> assertThat(started).hasValue(6));
    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(started).hasValue(6));
    assertThat(pool.status().active()).isEqualTo(4);
    assertThat(channel.awaitReport().succeeded()).isEqualTo(100);
  }

  @Test
  void failFastCancelsTheRest() throws Exception {
    CountDownLatch neverOpened = new CountDownLatch(1);
    FanOutReport<Integer, Integer> report =
        pool.fanOutAndWait(
            keys(100),
            key -> {
              if (key == 2) {
                throw new IllegalArgumentException("boom");
              }
              neverOpened.await(); // the running ones block until interrupted
              return key;
            },
            FanOutOptions.of(pool.config()).withFailureMode(FailureMode.FAIL_FAST));

    assertThat(report.succeeded()).isZero();
    assertThat(report.failed()).isEqualTo(100);
    assertThat(report.errors().get(2)).isInstanceOf(IllegalArgumentException.class);
    assertThat(report.cancelled()).isEqualTo(99);
    assertThat(report.errors().get(50))
        .isInstanceOf(CancellationException.class)
        .hasMessageContaining("key 2 failed (fail-fast)");
    assertThat(report.failures().get(99).attempts()).isZero(); // never started
    await().untilAsserted(() -> assertThat(pool.status().active()).isZero());
  }

  @Test
  void collectAllKeepsGoingAfterFailures() throws Exception {
    FanOutReport<Integer, Integer> report =
        pool.fanOutAndWait(
            keys(30),
            key -> {
              if (key < 10) {
                throw new IllegalStateException("down");
              }
              return key;
            });
    assertThat(report.succeeded()).isEqualTo(20);
    assertThat(report.failed()).isEqualTo(10);
    assertThat(report.cancelled()).isZero();
  }

  @Test
  void deadlineReportsUnfinishedKeysAsCancelled() throws Exception {
    Set<Integer> interrupted = ConcurrentHashMap.newKeySet();
    FanOutReport<Integer, Integer> report =
        pool.fanOutAndWait(
            keys(10),
            key -> {
              if (key < 3) {
                return key;
              }
              try {
                new CountDownLatch(1).await();
              } catch (InterruptedException e) {
                interrupted.add(key);
                throw e;
              }
              return key;
            },
            // Long enough for keys 0-2 to finish and 3-6 to start even on a busy machine.
            FanOutOptions.of(pool.config()).withDeadline(Duration.ofSeconds(2)));

    assertThat(report.succeeded()).isEqualTo(3);
    assertThat(report.cancelled()).isEqualTo(7);
    assertThat(report.errors().get(9)).hasMessageContaining("deadline of PT2S passed");
    assertThat(report.missing()).isZero();
    await().untilAsserted(() -> assertThat(interrupted).hasSize(4)); // the 4 that were running
  }

  @Test
  void taskTimeoutInterruptsAndReportsTimeout() throws Exception {
    pool.close();
    pool =
        WorkerPool.builder(
                ParallelConfig.builder().concurrency(2).taskTimeout(Duration.ofSeconds(1)).build())
            .threadFactory(threads)
            .build();
    AtomicInteger interrupted = new AtomicInteger();
    FanOutReport<String, String> report =
        pool.fanOutAndWait(
            List.of("fast", "slow"),
            key -> {
              if (key.equals("slow")) {
                try {
                  TimeUnit.MINUTES.sleep(1);
                } catch (InterruptedException e) {
                  interrupted.incrementAndGet();
                  throw e;
                }
              }
              return key;
            });
    assertThat(report.values()).containsOnlyKeys("fast");
    assertThat(report.errors().get("slow"))
        .isInstanceOf(TaskTimeoutException.class)
        .hasMessage("task for key slow timed out after PT1S");
    await().untilAsserted(() -> assertThat(interrupted.get()).isEqualTo(1));
  }

  @Test
  void closingTheChannelCancelsTheRest() {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch running = new CountDownLatch(4);
    AtomicInteger ran = new AtomicInteger();
    ResultChannel<Integer, Integer> channel =
        pool.fanOut(
            keys(1000),
            key -> {
              ran.incrementAndGet();
              running.countDown();
              release.await();
              return key;
            });
    await().untilAsserted(() -> assertThat(running.getCount()).isZero()); // all 4 workers busy
    channel.close();
    await().untilAsserted(() -> assertThat(pool.status()).extracting(PoolStatus::active, PoolStatus::queued).containsExactly(0, 0));
    assertThat(ran.get()).isEqualTo(4);
    assertThat(pool.status().failed()).isEqualTo(1000);
    assertThat(channel.iterator().hasNext()).isFalse();
  }

  @Test
  void cancelKeyReachesFanOutKeys() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch running = new CountDownLatch(4);
    ResultChannel<Integer, Integer> channel =
        pool.fanOut(
            keys(10),
            key -> {
              running.countDown();
              release.await();
              return key;
            });
    await().untilAsserted(() -> assertThat(running.getCount()).isZero()); // keys 0-3 run
    assertThat(pool.cancel(0)).isTrue(); // running
    assertThat(pool.cancel(9)).isTrue(); // queued
    assertThat(pool.cancel(42)).isFalse(); // unknown
    release.countDown();
    FanOutReport<Integer, Integer> report = channel.awaitReport();
    assertThat(report.errors()).containsOnlyKeys(0, 9);
    assertThat(report.succeeded()).isEqualTo(8);
  }

  @Test
  void progressListenerSeesEveryResult() throws Exception {
    List<Progress> seen = new ArrayList<>();
    java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
    pool.fanOutAndWait(
        keys(25),
        key -> {
          if (key == 5) {
            throw new IllegalStateException();
          }
          return key;
        },
        progress -> {
          lock.lock();
          try {
            seen.add(progress);
          } finally {
            lock.unlock();
          }
        });
    assertThat(seen).hasSize(25);
    assertThat(seen.stream().mapToInt(Progress::done).max()).hasValue(25);
    Progress last = seen.stream().filter(Progress::isComplete).findFirst().orElseThrow();
    assertThat(last.total()).isEqualTo(25);
    assertThat(last.eta()).isEqualTo(Duration.ZERO);
    assertThat(seen.stream().mapToInt(Progress::failed).max()).hasValue(1);
  }

  @Test
  void progressComesInOrderOneCallAtATimeAndEndsBeforeTheFanOutReturns() throws Exception {
    // Eight workers finishing 2,000 keys at once: a listener that is not thread-safe still sees
    // done = 1, 2, ... 2,000 with failures never going back, and the complete call is in before
    // fanOutAndWait returns.
    try (WorkerPool wide =
        WorkerPool.builder(ParallelConfig.builder().concurrency(8).build())
            .name("progress")
            .threadFactory(threads)
            .build()) {
      int total = 2_000;
      List<Progress> seen = new ArrayList<>();
      AtomicInteger inside = new AtomicInteger();
      AtomicInteger overlaps = new AtomicInteger();
      FanOutReport<Integer, Integer> report =
          wide.fanOutAndWait(
              keys(total),
              key -> {
                if (key % 7 == 0) {
                  throw new IllegalStateException("key " + key);
                }
                return key;
              },
              progress -> {
                if (inside.incrementAndGet() > 1) {
                  overlaps.incrementAndGet();
                }
                seen.add(progress);
                inside.decrementAndGet();
              });

      assertThat(overlaps).hasValue(0);
      assertThat(seen)
          .extracting(Progress::done)
          .containsExactlyElementsOf(IntStream.rangeClosed(1, total).boxed().toList());
      assertThat(seen).extracting(Progress::failed).isSorted();
      assertThat(seen.getLast().isComplete()).isTrue();
      assertThat(seen.getLast().failed()).isEqualTo(report.failed()).isEqualTo(286);
    }
  }

  @Test
  void rejectsBadInputWithoutAcceptingAnything() {
    assertThatThrownBy(() -> pool.fanOut(null, key -> key))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("keys");
    assertThatThrownBy(() -> pool.fanOut(keys(3), null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("task");
    assertThatThrownBy(() -> pool.fanOut(Arrays.asList(1, null, 3), key -> key))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("keys must not contain null (index 1)");
    assertThatThrownBy(() -> pool.fanOut(List.of(1, 2, 1), key -> key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("keys must be distinct, but 1 appears twice (index 2)");
    assertThatThrownBy(() -> FanOutOptions.of(pool.config()).withResultCapacity(-1))
        .hasMessage("resultCapacity must not be negative (0 for the default), was -1");
    assertThatThrownBy(() -> FanOutOptions.of(pool.config()).withDeadline(Duration.ofSeconds(-1)))
        .hasMessage("deadline must be positive (or null for none), was PT-1S");
    assertThat(pool.status()).isEqualTo(new PoolStatus(0, 0, 0, 0, 0));
  }

  @Test
  void aWorkerKilledByAFatalErrorIsReplacedAndTheQueueStillDrains() throws Exception {
    FanOutReport<Integer, Integer> report =
        pool.fanOutAndWait(
            keys(40),
            key -> {
              if (key == 3) {
                throw new OutOfMemoryError("simulated");
              }
              if (key == 4) {
                throw new StackOverflowError("simulated");
              }
              return key;
            });
    assertThat(report.succeeded()).isEqualTo(38);
    assertThat(report.errors().get(3)).isInstanceOf(OutOfMemoryError.class);
    assertThat(report.errors().get(4)).isInstanceOf(StackOverflowError.class);
    await().untilAsserted(() -> assertThat(threads.aliveThreads()).isEmpty());
    // The OutOfMemoryError ended its worker; the StackOverflowError did not end its own.
    assertThat(threads.uncaught()).singleElement().isSameAs(report.errors().get(3));
  }

  @Test
  void listenerFailureDoesNotLoseResults() throws Exception {
    FanOutReport<Integer, Integer> report =
        pool.fanOutAndWait(
            keys(10),
            key -> key,
            progress -> {
              throw new IllegalStateException("listener bug");
            });
    assertThat(report.succeeded()).isEqualTo(10);
  }

  @Test
  void theReportListsResultsInCompletionOrderAndFindsEachByKey() throws Exception {
    CountDownLatch secondReported = new CountDownLatch(1);
    FanOutReport<String, String> report =
        pool.fanOutAndWait(
            List.of("first", "second", "third"),
            key -> {
              if (key.equals("first")) {
                assertThat(secondReported.await(10, TimeUnit.SECONDS)).isTrue();
              }
              if (key.equals("third")) {
                throw new IllegalStateException("third fails");
              }
              return key.toUpperCase(java.util.Locale.ROOT);
            },
            progress -> {
              if (progress.done() == 2) {
                secondReported.countDown();
              }
            });

    assertThat(report.values().keySet()).containsExactly("second", "first");
    assertThat(report.values()).containsEntry("first", "FIRST").containsEntry("second", "SECOND");
    assertThat(report.values().get("third")).isNull();
    assertThat(report.values().get("nobody")).isNull();
    assertThat(report.errors()).containsOnlyKeys("third");
    assertThat(report.errors().get("first")).isNull();
    assertThat(report.failures().get("third").error()).hasMessage("third fails");
  }

  @Test
  void aKeysElapsedTimeIsItsOwnNotTheRunBeforeIt() throws Exception {
    pool.close();
    pool =
        WorkerPool.builder(ParallelConfig.builder().concurrency(1).build())
            .name("one")
            .threadFactory(threads)
            .build();
    Duration slow = Duration.ofSeconds(1);
    // Far below the slow part, yet far above what a key that returns at once takes on a busy
    // machine: a key that is charged the slow part's time cannot pass.
    Duration fastBound = Duration.ofMillis(500);
    FanOutReport<String, String> report =
        pool.fanOutAndWait(
            List.of("slow", "fast"),
            key -> {
              if (key.equals("slow")) {
                Thread.sleep(slow.toMillis()); // the simulated slow call
              }
              return key;
            });
    assertThat(report.successes().get("slow").elapsed()).isGreaterThanOrEqualTo(slow);
    assertThat(report.successes().get("fast").elapsed()).isLessThan(fastBound);

    // A slow progress listener runs in the worker between two keys: it counts for neither.
    CountDownLatch listened = new CountDownLatch(1);
    FanOutReport<String, String> listenedTo =
        pool.fanOutAndWait(
            List.of("first", "second"),
            key -> key,
            progress -> {
              if (progress.done() == 1) {
                try {
                  Thread.sleep(slow.toMillis()); // a listener that blocks
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                listened.countDown();
              }
            });
    assertThat(listened.getCount()).isZero();
    assertThat(listenedTo.successes().values())
        .allSatisfy(result -> assertThat(result.elapsed()).isLessThan(fastBound));
  }

  @Test
  void keysThatChangeWhileTheyAreReadAreRejected() {
    List<Integer> shrinking = List.of(1, 2);
    java.util.Collection<Integer> saysThree = sizedWrongly(shrinking, 3);
    java.util.Collection<Integer> saysOne = sizedWrongly(shrinking, 1);
    assertThatThrownBy(() -> pool.fanOutAndWait(saysThree, key -> key))
        .isInstanceOf(java.util.ConcurrentModificationException.class)
        .hasMessage("keys changed while the fan-out read them");
    assertThatThrownBy(() -> pool.fanOut(saysOne, key -> key))
        .isInstanceOf(java.util.ConcurrentModificationException.class);
    assertThat(pool.status()).isEqualTo(new PoolStatus(0, 0, 0, 0, 0));
  }

  /** {@code keys} as a collection whose {@code size()} says {@code size}, as if they changed. */
  private static java.util.Collection<Integer> sizedWrongly(List<Integer> keys, int size) {
    return new java.util.AbstractCollection<>() {
      @Override
      public java.util.Iterator<Integer> iterator() {
        return keys.iterator();
      }

      @Override
      public int size() {
        return size;
      }
    };
  }
}
