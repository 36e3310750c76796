package dev.fanout.lease;

import static java.time.Duration.ofMillis;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Stopping claim workers in the awkward places: from a handler, past the flusher, mid-failure. */
class ClaimWorkersStopTest extends ClaimWorkersFixture {

  private static List<String> items(int n) {
    return IntStream.range(0, n).mapToObj(i -> "item-" + i).toList();
  }

  @Test
  void aHandlerThatStopsItsOwnWorkersWaitsForTheOthersAndItsItemIsStillCompleted()
      throws InterruptedException {
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
    repository.addAll(items(3));
    AtomicReference<ClaimWorkers<String>> self = new AtomicReference<>();
    CountDownLatch othersStarted = new CountDownLatch(2);
    AtomicReference<Boolean> stoppedCleanly = new AtomicReference<>();
    CountDownLatch stopReturned = new CountDownLatch(1);
    List<Thread> threads = new CopyOnWriteArrayList<>();
    ThreadFactory factory =
        task -> {
          Thread t = Thread.ofVirtual().unstarted(task);
          threads.add(t);
          return t;
        };
    ClaimWorkers<String> workers =
        ClaimWorkers.builder(
                repository,
                (Claim<String> c) -> {
                  if (c.item().equals("item-0")) {
                    othersStarted.await();
                    stoppedCleanly.set(self.get().stop());
                    stopReturned.countDown();
                  } else {
                    othersStarted.countDown();
                    Thread.sleep(50); // the others' work, which the stop waits for
                  }
                })
            .threadFactory(factory)
            .config(fast().concurrency(3).batchSize(1).build())
            .build();
    self.set(workers);
    workers.start();

    assertThat(stopReturned.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(stoppedCleanly.get()).isTrue();
    assertThat(workers.isRunning()).isFalse();
    // The calling handler returned after its stop: its item completes, and then the pool's
    // closing thread and every other thread of the workers end.
    await()
        .atMost(ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(workers.status().completed()).isEqualTo(3);
              assertThat(workers.status().held()).isZero();
              assertThat(threads).noneMatch(Thread::isAlive);
            });
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 3, 0));
  }

  @Test
  void aHandlerThatOutlivesTheStopAndReturnsCompletesItsItemThoughTheFlusherHasEnded() {
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
    repository.addAll(items(1));
    CountDownLatch handling = new CountDownLatch(1);
    CountDownLatch release = latch();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> {
                      handling.countDown();
                      // Ignores interrupts: outlives the stop's timeout and its grace.
                      while (true) {
                        try {
                          release.await();
                          return;
                        } catch (InterruptedException ignored) {
                          // keeps working
                        }
                      }
                    })
                .config(fast().concurrency(1).batchSize(1).completionBatching(4, ofMillis(5)).build()));
    await().atMost(ofSeconds(10)).until(() -> handling.getCount() == 0);

    assertThat(workers.stop(ofMillis(100))).as("a handler is still running").isFalse();
    release.countDown();

    await()
        .atMost(ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(workers.status().held()).isZero();
              assertThat(workers.status().completed()).isEqualTo(1);
            });
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 1, 0));
    assertThat(workers.status().accountedFor()).isTrue();
  }

  @Test
  void itemsThePoolCouldNotTakeAreGivenBackAndClaimedAgainOnceWorkersStart() {
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
    repository.addAll(items(20));
    Set<String> handled = ConcurrentHashMap.newKeySet();
    AtomicInteger duplicates = new AtomicInteger();
    AtomicInteger made = new AtomicInteger();
    AtomicBoolean failedOnce = new AtomicBoolean();
    ThreadFactory failsForTheFirstWorkers =
        task -> {
          // The claim loop, heartbeat and reaper come first; the next two threads (the pool's
          // first workers) cannot be made.
          int n = made.incrementAndGet();
          if (n == 4 || n == 5) {
            failedOnce.set(true);
            throw new IllegalStateException("no thread for you (" + n + ")");
          }
          return Thread.ofVirtual().unstarted(task);
        };
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> {
                      if (!handled.add(c.item())) {
                        duplicates.incrementAndGet();
                      }
                    })
                .threadFactory(failsForTheFirstWorkers)
                .config(fast().concurrency(2).batchSize(2).build()));

    await().atMost(ofSeconds(30)).until(() -> workers.status().completed() == 20);
    assertThat(workers.stop()).isTrue();

    assertThat(failedOnce).isTrue();
    assertThat(handled).hasSize(20);
    assertThat(duplicates).hasValue(0);
    assertThat(workers.status().held()).isZero();
    assertThat(workers.status().givenBack()).isPositive();
    assertThat(workers.status().accountedFor()).isTrue();
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 20, 0));
  }
}
