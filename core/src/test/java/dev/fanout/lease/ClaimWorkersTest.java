package dev.fanout.lease;

import static java.time.Duration.ZERO;
import static java.time.Duration.ofMillis;
import static java.time.Duration.ofMinutes;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ClaimWorkersTest extends ClaimWorkersFixture {
  private static List<String> items(int n) {
    return IntStream.range(0, n).mapToObj(i -> "item-" + i).toList();
  }

  /** Platform threads, so that they also show in {@link Thread#getAllStackTraces()}. */
  private static final class TrackingThreadFactory implements ThreadFactory {
    final List<Thread> threads = new CopyOnWriteArrayList<>();

    @Override
    public Thread newThread(Runnable task) {
      Thread thread = Thread.ofPlatform().name("lease-test-" + threads.size()).unstarted(task);
      threads.add(thread);
      return thread;
    }
  }

  private static Set<String> liveThreadNames() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .collect(Collectors.toSet());
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  void processesEveryItemOnceAndLeavesNoThreadBehind() {
    Set<String> baseline = liveThreadNames();
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
    repository.addAll(items(500));
    Map<String, Integer> handled = new ConcurrentHashMap<>();
    Set<Thread> handlerThreads = ConcurrentHashMap.newKeySet();
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger mostInside = new AtomicInteger();
    TrackingThreadFactory threads = new TrackingThreadFactory();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> {
                      mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                      handlerThreads.add(Thread.currentThread());
                      handled.merge(c.item(), 1, Integer::sum);
                      inside.decrementAndGet();
                    })
                .name("once")
                .config(fast().concurrency(8).batchSize(5).build())
                .threadFactory(threads));

    await().atMost(ofSeconds(30)).until(() -> workers.status().completed() == 500);
    assertThat(workers.stop()).isTrue();

    assertThat(handled).hasSize(500).allSatisfy((item, n) -> assertThat(n).isEqualTo(1));
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 500, 0));
    ClaimWorkersStatus status = workers.status();
    assertThat(status.running()).isFalse();
    assertThat(status.concurrency()).isEqualTo(8);
    assertThat(status.activeWorkers()).isZero();
    assertThat(status.held()).isZero();
    assertThat(status.claimed()).isEqualTo(500);
    assertThat(status.completed()).isEqualTo(500);
    // Handlers ran on threads of the factory, at most 8 at once; the claim loop, heartbeat and
    // reaper came from it too; all ended; the JVM's threads are back to before.
    assertThat(mostInside.get()).isBetween(1, 8);
    assertThat(threads.threads).containsAll(handlerThreads).noneMatch(Thread::isAlive);
    assertThat(threads.threads.size()).isGreaterThanOrEqualTo(handlerThreads.size() + 3);
    assertThat(liveThreadNames())
        .filteredOn(name -> !baseline.contains(name))
        .filteredOn(name -> !name.startsWith("awaitility") && !name.startsWith("ForkJoinPool"))
        .isEmpty();
  }

  @Test
  void holdsAtMostConcurrencyTimesBatchSizeAndClaimsEveryFreePlaceOnceABatchIsFree()
      throws InterruptedException {
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create();
    store.addAll(items(200));
    List<Integer> limits = new CopyOnWriteArrayList<>();
    ClaimLeaseRepository<String> repository =
        new ForwardingRepository<>(store) {
          @Override
          public List<Claim<String>> claim(String workerId, int limit, java.time.Duration lease) {
            limits.add(limit);
            return super.claim(workerId, limit, lease);
          }
        };
    AtomicReference<ClaimWorkers<String>> self = new AtomicReference<>();
    AtomicInteger mostHeld = new AtomicInteger();
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger mostInside = new AtomicInteger();
    ClaimWorkers<String> workers =
        ClaimWorkers.builder(
                repository,
                (Claim<String> c) -> {
                  mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                  mostHeld.accumulateAndGet(self.get().status().held(), Math::max);
                  Thread.sleep(1); // the work
                  inside.decrementAndGet();
                })
            .config(fast().concurrency(2).batchSize(3).build())
            .build();
    self.set(workers);
    workers.start();

    await().atMost(ofSeconds(30)).until(() -> workers.status().completed() == 200);
    assertThat(workers.stop()).isTrue();

    // The first call fills every place (2 handlers x 3); later calls come once at least a batch
    // of 3 is free and ask for every free place; never more are held, never more run.
    assertThat(limits.getFirst()).isEqualTo(6);
    assertThat(limits).allSatisfy(limit -> assertThat(limit).isBetween(3, 6));
    assertThat(mostHeld.get()).isEqualTo(6);
    assertThat(mostInside.get()).isBetween(1, 2);
    assertThat(store.counts()).isEqualTo(new LeaseCounts(0, 0, 200, 0));
  }

  @Test
  void wakeUpEndsTheIdleWaitSoAnItemAddedLaterIsClaimedAtOnce() {
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create();
    RecordingRepository<String> repository = new RecordingRepository<>(store);
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(repository, (Claim<String> c) -> {})
                .config(fast().pollInterval(ofMinutes(1)).maxPollInterval(ofMinutes(1)).build()));
    // The first poll found nothing: the loop now waits a minute or more before the next.
    await().atMost(ofSeconds(10)).until(() -> repository.claims.get() == 1);

    store.add("late");
    workers.wakeUp();

    await().atMost(ofSeconds(10)).until(() -> workers.status().completed() == 1);
    // The woken claim took it; at most one more (empty) claim followed it, then the long wait.
    assertThat(repository.claims.get()).isBetween(2, 3);
    assertThat(workers.stop()).isTrue();
  }

  @Test
  void runsOnVirtualThreadsNamedAfterTheWorkersByDefault() {
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
    repository.addAll(items(20));
    Set<Thread> seen = ConcurrentHashMap.newKeySet();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(repository, (Claim<String> c) -> seen.add(Thread.currentThread()))
                .name("credential-check")
                .config(fast().concurrency(3).build()));

    await().atMost(ofSeconds(30)).until(() -> workers.status().completed() == 20);
    assertThat(workers.stop()).isTrue();

    assertThat(seen)
        .isNotEmpty()
        .allSatisfy(
            t -> {
              assertThat(t.isVirtual()).isTrue();
              assertThat(t.getName()).startsWith("fanout-credential-check-worker-");
              assertThat(t.isAlive()).isFalse();
            });
  }

  @Test
  void workerIdsNameTheWorkersAndAreDistinctPerInstance() {
    ClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
    ClaimWorkers<String> a =
        ClaimWorkers.builder(repository, (Claim<String> c) -> {}).name("check").build();
    ClaimWorkers<String> b =
        ClaimWorkers.builder(repository, (Claim<String> c) -> {}).name("check").build();
    ClaimWorkers<String> c =
        ClaimWorkers.builder(repository, (Claim<String> x) -> {}).workerId("host-7").build();
    @SuppressWarnings("removal")
    ClaimWorkers<String> d =
        ClaimWorkers.builder(repository, (Claim<String> x) -> {}).workerIdPrefix("host-8").build();

    assertThat(a.workerId()).startsWith("check-").isNotEqualTo(b.workerId());
    assertThat(c.workerId()).isEqualTo("host-7");
    // The deprecated prefix names the one id as worker 0 was named, and every index maps to it.
    assertThat(d.workerId()).isEqualTo("host-8-0");
    assertThat(deprecatedWorkerId(d, 2)).isEqualTo("host-8-0");
    assertThatThrownBy(() -> deprecatedWorkerId(d, 3))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  @SuppressWarnings("removal")
  private static String deprecatedWorkerId(ClaimWorkers<?> workers, int index) {
    return workers.workerId(index);
  }

  @Test
  void heartbeatRenewsTheLeaseOfALongRunningItem() {
    ManualClock clock = new ManualClock();
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create(clock);
    RecordingRepository<String> repository = new RecordingRepository<>(store);
    store.add("slow");
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch finish = latch();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> {
                      started.countDown();
                      finish.await();
                    })
                .config(
                    fast()
                        .concurrency(1)
                        .leaseDuration(ofSeconds(10))
                        .heartbeatInterval(ofMillis(20))
                        .reaperInterval(ZERO)
                        .build()));
    await().atMost(ofSeconds(10)).until(() -> started.getCount() == 0);

    for (int i = 0; i < 5; i++) { // 20 s of store time: twice the lease
      clock.advance(ofSeconds(4));
      int renewals = repository.renewAlls.get();
      await().atMost(ofSeconds(10)).until(() -> repository.renewAlls.get() > renewals + 1);
    }

    assertThat(store.reclaimExpired()).isZero();
    finish.countDown();
    await().atMost(ofSeconds(10)).until(() -> workers.status().completed() == 1);
    assertThat(workers.status().leaseLost()).isZero();
  }

  @Test
  void itemTakenOverWhileItsHandlerRanIsCountedAsLeaseLost() {
    ManualClock clock = new ManualClock();
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create(clock);
    repository.add("contested");
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch finish = latch();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> {
                      started.countDown();
                      finish.await();
                    })
                .config(
                    fast()
                        .concurrency(1)
                        .leaseDuration(ofMinutes(10))
                        .heartbeatInterval(ofMinutes(5))
                        .reaperInterval(ZERO)
                        .build()));
    await().atMost(ofSeconds(10)).until(() -> started.getCount() == 0);

    clock.advance(ofMinutes(11));
    assertThat(repository.reclaimExpired()).isEqualTo(1);
    Claim<String> thief = repository.claim("thief", 1, ofMinutes(10)).get(0);
    finish.countDown();

    await().atMost(ofSeconds(10)).until(() -> workers.status().leaseLost() == 1);
    assertThat(workers.status().completed()).isZero();
    assertThat(workers.status().held()).isZero();
    repository.complete(thief); // the thief's claim was untouched
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 1, 0));
  }

  @Test
  void itemWhoseRenewalWasRefusedBeforeItStartedIsGivenBackUnworked() {
    ManualClock clock = new ManualClock();
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create(clock);
    RecordingRepository<String> repository = new RecordingRepository<>(store);
    store.addAll(List.of("first", "second"));
    List<Claim<String>> handled = new CopyOnWriteArrayList<>();
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch finish = latch();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> {
                      handled.add(c);
                      started.countDown();
                      // A handler that ignores the interrupt a refused renewal brings, and
                      // finishes anyway.
                      boolean interrupted = false;
                      while (true) {
                        try {
                          finish.await();
                          break;
                        } catch (InterruptedException e) {
                          interrupted = true;
                        }
                      }
                      if (interrupted) {
                        Thread.currentThread().interrupt();
                      }
                    })
                .config(
                    fast()
                        .concurrency(1)
                        .batchSize(2)
                        .leaseDuration(ofSeconds(10))
                        .heartbeatInterval(ofMillis(20))
                        .reaperInterval(ZERO)
                        .build()));
    await().atMost(ofSeconds(10)).until(() -> started.getCount() == 0);

    clock.advance(ofSeconds(11)); // both leases end; the next heartbeat is refused
    await().atMost(ofSeconds(10)).until(() -> repository.renewalsRefused.get() == 2);
    finish.countDown();

    await().atMost(ofSeconds(10)).until(() -> workers.status().completed() == 2);
    // "first" was finished late but nobody had taken it; "second" went back and came round again.
    assertThat(handled).extracting(Claim::item).containsExactly("first", "second");
    assertThat(handled.get(0).isLeaseLost()).isTrue();
    assertThat(handled.get(1).attempt()).isEqualTo(1);
    assertThat(handled.get(1).token()).isEqualTo(2);
    assertThat(workers.status().leaseLost()).isZero();
    assertThat(workers.status().claimed()).isEqualTo(3);
  }

  @Test
  void gracefulStopFinishesTheItemInHandAndGivesBackTheRest() throws Exception {
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
    repository.addAll(items(5));
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch finish = latch();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> {
                      started.countDown();
                      finish.await();
                    })
                .config(fast().concurrency(1).batchSize(5).build()));
    await().atMost(ofSeconds(10)).until(() -> started.getCount() == 0);

    Thread stopper = Thread.ofPlatform().start(() -> workers.stop());
    await().atMost(ofSeconds(10)).until(() -> !workers.isRunning());
    finish.countDown();
    stopper.join(TimeUnit.SECONDS.toMillis(20));

    assertThat(stopper.isAlive()).isFalse();
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(4, 0, 1, 0));
    assertThat(repository.claim("next", 10, ofMinutes(1)))
        .hasSize(4)
        .allSatisfy(c -> assertThat(c.attempt()).as("given back, not counted").isEqualTo(1));
  }

  @Test
  void stopPastTheTimeoutGivesBackTheItemsWaitingForAWorkerWithoutRunningThem() {
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
    repository.addAll(items(3));
    CountDownLatch never = latch();
    AtomicInteger handled = new AtomicInteger();
    CountDownLatch handling = new CountDownLatch(1);
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> {
                      handled.incrementAndGet();
                      handling.countDown();
                      never.await();
                    })
                .config(fast().concurrency(1).batchSize(3).build()));
    // One handler runs; the other two items are held, waiting for the one worker.
    await().atMost(ofSeconds(10)).until(() -> handling.getCount() == 0);
    await().atMost(ofSeconds(10)).until(() -> workers.status().held() == 3);

    assertThat(workers.stop(ofMillis(100))).isTrue();

    assertThat(handled).as("the waiting items never ran").hasValue(1);
    assertThat(workers.status())
        .extracting(
            ClaimWorkersStatus::held,
            ClaimWorkersStatus::givenBack,
            ClaimWorkersStatus::retried,
            ClaimWorkersStatus::activeWorkers)
        .containsExactly(0, 3L, 0L, 0);
    assertThat(workers.status().accountedFor()).isTrue();
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(3, 0, 0, 0));
    assertThat(repository.claim("next", 10, ofMinutes(1)))
        .hasSize(3)
        .allSatisfy(c -> assertThat(c.attempt()).as("given back, not counted").isEqualTo(1));
  }

  @Test
  void stopInterruptsHandlersPastTheTimeoutAndGivesTheirItemsBack() {
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
    repository.addAll(items(2));
    CountDownLatch never = latch();
    CountDownLatch handling = new CountDownLatch(2);
    AtomicInteger interrupted = new AtomicInteger();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> {
                      handling.countDown();
                      try {
                        never.await();
                      } catch (InterruptedException e) {
                        interrupted.incrementAndGet();
                        throw e;
                      }
                    })
                .config(fast().concurrency(2).batchSize(1).build()));
    // Both handlers running: a worker that has not reached its handler would give its item back
    // unhandled when stopped.
    await().atMost(ofSeconds(10)).until(() -> handling.getCount() == 0);

    assertThat(workers.stop(ofMillis(100))).isTrue();

    assertThat(interrupted).hasValue(2);
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(2, 0, 0, 0));
    assertThat(workers.status().retried()).isZero();
    assertThat(workers.status().failed()).isZero();
    assertThat(repository.claim("next", 10, ofMinutes(1)))
        .allSatisfy(c -> assertThat(c.attempt()).isEqualTo(1));
  }

  @Test
  void failedAttemptsAreRetriedAfterTheirDelayThenFailed() {
    ManualClock clock = new ManualClock();
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create(clock);
    repository.add("flaky");
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> {
                      attempts.add(c.attempt());
                      throw new IllegalStateException("remote said no");
                    })
                .config(
                    fast()
                        .concurrency(1)
                        .maxAttempts(3)
                        .retryDelay(ofSeconds(10), ofSeconds(15))
                        .build()));

    await().atMost(ofSeconds(10)).until(() -> attempts.size() == 1);
    await().atMost(ofSeconds(10)).until(() -> workers.status().retried() == 1);
    clock.advance(ofSeconds(10));
    await().atMost(ofSeconds(10)).until(() -> attempts.size() == 2);
    await().atMost(ofSeconds(10)).until(() -> workers.status().retried() == 2);
    clock.advance(ofSeconds(15)); // 20 s, capped at 15 s
    await().atMost(ofSeconds(10)).until(() -> workers.status().failed() == 1);

    assertThat(attempts).containsExactly(1, 2, 3);
    assertThat(repository.state("flaky")).contains(LeaseState.FAILED);
    assertThat(repository.failureReason("flaky"))
        .hasValue("java.lang.IllegalStateException: remote said no");
  }

  @Test
  void itemWhoseLeasesKeptEndingIsFailedWithoutRunningItAgain() {
    ManualClock clock = new ManualClock();
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create(clock);
    repository.add("crashes-its-workers");
    for (int i = 0; i < 3; i++) { // three workers died running it
      repository.markStarted(repository.claim("doomed-" + i, 1, ofSeconds(30)).get(0));
      clock.advance(ofSeconds(31));
      assertThat(repository.reclaimExpired()).isEqualTo(1);
    }
    AtomicInteger calls = new AtomicInteger();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(repository, (Claim<String> c) -> calls.incrementAndGet())
                .config(fast().maxAttempts(3).build()));

    await().atMost(ofSeconds(10)).until(() -> workers.status().failed() == 1);

    assertThat(calls).hasValue(0);
    assertThat(repository.failureReason("crashes-its-workers").orElseThrow())
        .startsWith("gave up: claimed 4 times, more than maxAttempts 3");
    assertThat(workers.status().accountedFor()).isTrue();
  }

  @Test
  void failingStoreIsRetriedWithBackOffAndWorkResumes() {
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create();
    store.addAll(items(50));
    RecordingRepository<String> repository = new RecordingRepository<>(store);
    repository.down = true;
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(repository, (Claim<String> c) -> {})
                .name("flaky-store")
                .meterRegistry(registry)
                .config(
                    ClaimWorkersConfig.builder()
                        .concurrency(1)
                        .pollInterval(ofMillis(10))
                        .maxPollInterval(ofMillis(80))
                        .build()));

    await().atMost(ofSeconds(10)).until(() -> repository.claims.get() >= 6);
    List<Long> calls = List.copyOf(repository.claimCallNanos);
    repository.down = false;
    await().atMost(ofSeconds(20)).until(() -> workers.status().completed() == 50);

    // Back-off: 10, 20, 40, 80, 80 ms between tries (at least; later is fine on a busy machine).
    long[] atLeast = {10, 20, 40, 80, 80};
    for (int i = 0; i < atLeast.length; i++) {
      long gapMillis = TimeUnit.NANOSECONDS.toMillis(calls.get(i + 1) - calls.get(i));
      assertThat(gapMillis).as("wait before try %d", i + 2).isGreaterThanOrEqualTo(atLeast[i] - 1);
    }
    assertThat(
            registry
                .get("fanout.lease.store.errors")
                .tag("name", "flaky-store")
                .functionCounter()
                .count())
        .isGreaterThanOrEqualTo(6);
  }

  @Test
  void idleWorkersBackOffUpToTheMaxPollInterval() {
    RecordingRepository<String> repository =
        new RecordingRepository<>(InMemoryClaimLeaseRepository.create());
    start(
        ClaimWorkers.builder(repository, (Claim<String> c) -> {})
            .config(
                ClaimWorkersConfig.builder()
                    .concurrency(1)
                    .pollInterval(ofMillis(10))
                    .maxPollInterval(ofMillis(40))
                    .build()));

    await().atMost(ofSeconds(10)).until(() -> repository.claims.get() >= 6);

    List<Long> calls = List.copyOf(repository.claimCallNanos);
    long[] atLeast = {10, 20, 40, 40, 40};
    for (int i = 0; i < atLeast.length; i++) {
      long gapMillis = TimeUnit.NANOSECONDS.toMillis(calls.get(i + 1) - calls.get(i));
      assertThat(gapMillis).as("idle wait %d", i + 1).isGreaterThanOrEqualTo(atLeast[i] - 1);
    }
  }

  @Test
  void batchedCompletionCompletesManyClaimsPerCall() {
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create();
    store.addAll(items(400));
    RecordingRepository<String> repository = new RecordingRepository<>(store);
    Map<String, Integer> handled = new ConcurrentHashMap<>();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository, (Claim<String> c) -> handled.merge(c.item(), 1, Integer::sum))
                .config(
                    fast()
                        .concurrency(4)
                        .batchSize(50)
                        // Lingers long enough to fill its batches even on a busy machine.
                        .completionBatching(100, ofMillis(200))
                        .build()));

    await().atMost(ofSeconds(30)).until(() -> workers.status().completed() == 400);
    assertThat(workers.stop()).isTrue();

    assertThat(handled).hasSize(400).allSatisfy((item, n) -> assertThat(n).isEqualTo(1));
    assertThat(repository.completes).hasValue(0);
    assertThat(repository.completeAlls.get()).isBetween(4, 40);
    assertThat(store.counts()).isEqualTo(new LeaseCounts(0, 0, 400, 0));
  }

  @Test
  void stopFlushesCompletionsStillWaitingInTheFlusher() {
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create();
    store.addAll(items(10));
    AtomicInteger handled = new AtomicInteger();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(store, (Claim<String> c) -> handled.incrementAndGet())
                .config(
                    fast()
                        .concurrency(1)
                        .batchSize(10)
                        .leaseDuration(ofMinutes(10))
                        .completionBatching(1000, ofMinutes(2)) // would linger for 2 minutes
                        .build()));
    // Every handler called, so stopping gives nothing back: all 10 wait in the flusher.
    await().atMost(ofSeconds(10)).until(() -> handled.get() == 10);

    assertThat(workers.stop(ofSeconds(10))).isTrue();

    assertThat(store.counts()).isEqualTo(new LeaseCounts(0, 0, 10, 0));
    assertThat(workers.status().completed()).isEqualTo(10);
  }

  @Test
  void metersAreRegisteredWhileRunningAndRemovedOnStop() {
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
    repository.addAll(items(10));
    repository.add("bad");
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> {
                      if (c.item().equals("bad")) {
                        throw new IllegalArgumentException("bad item");
                      }
                    })
                .name("metered")
                .meterRegistry(registry)
                .config(fast().maxAttempts(1).build()));
    // The store settles each item before the counters count it and the item stops being held.
    await()
        .atMost(ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(repository.counts().settled()).isTrue();
              assertThat(workers.status())
                  .extracting(
                      ClaimWorkersStatus::completed,
                      ClaimWorkersStatus::failed,
                      ClaimWorkersStatus::held,
                      ClaimWorkersStatus::activeWorkers)
                  .containsExactly(10L, 1L, 0, 0);
            });

    assertThat(count(registry, "claimed")).isEqualTo(11);
    assertThat(count(registry, "completed")).isEqualTo(10);
    assertThat(count(registry, "failed")).isEqualTo(1);
    assertThat(count(registry, "lease_lost")).isZero();
    assertThat(
            registry
                .get("fanout.lease.handler.duration")
                .tags("name", "metered", "outcome", "success")
                .timer()
                .count())
        .isEqualTo(10);
    assertThat(
            registry
                .get("fanout.lease.handler.duration")
                .tags("name", "metered", "outcome", "failure")
                .timer()
                .count())
        .isEqualTo(1);
    assertThat(
            registry.get("fanout.lease.workers.active").tag("name", "metered").gauge().value())
        .isZero();
    assertThat(registry.get("fanout.lease.claims.held").tag("name", "metered").gauge().value())
        .isZero();

    workers.stop();

    assertThat(registry.getMeters()).isEmpty();
  }

  private static double count(SimpleMeterRegistry registry, String event) {
    return registry
        .get("fanout.lease.items")
        .tags("name", "metered", "event", event)
        .functionCounter()
        .count();
  }

  @Test
  void startsOnceAndStopsIdempotently() {
    ClaimWorkers<String> neverStarted =
        ClaimWorkers.builder(InMemoryClaimLeaseRepository.<String>create(), (Claim<String> c) -> {})
            .build();
    assertThat(neverStarted.stop()).isTrue();
    assertThatThrownBy(neverStarted::start).isInstanceOf(IllegalStateException.class);

    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    InMemoryClaimLeaseRepository.<String>create(), (Claim<String> c) -> {})
                .name("twice")
                .config(fast().build()));
    assertThat(workers.isRunning()).isTrue();
    assertThatThrownBy(workers::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("twice was already started");
    assertThat(workers.stop()).isTrue();
    assertThat(workers.stop()).isTrue();
    workers.close();
    assertThat(workers.status().summary()).startsWith("stopped concurrency=3 activeWorkers=0");
  }

  @Test
  @SuppressWarnings("removal") // the deprecated workerIdPrefix is checked as before
  void builderRefusesBadArguments() {
    ClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
    assertThatThrownBy(() -> ClaimWorkers.builder(null, (Claim<String> c) -> {}))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("repository must not be null");
    assertThatThrownBy(() -> ClaimWorkers.builder(repository, null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("handler must not be null");
    ClaimWorkers.Builder<String> builder =
        ClaimWorkers.builder(repository, (Claim<String> c) -> {});
    assertThatThrownBy(() -> builder.name(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name must be 1 to 100 characters and not blank, was \" \"");
    assertThatThrownBy(() -> builder.workerIdPrefix("x".repeat(201)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("workerIdPrefix must be 1 to 200 characters");
    assertThatThrownBy(() -> builder.workerId("x".repeat(203)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("workerId must be 1 to 202 characters");
    assertThatThrownBy(() -> builder.workerId(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("workerId must be 1 to 202 characters and not blank, was \" \"");
  }

  @Test
  void statusSummaryReadsLikeTheOriginalStatusLine() {
    ClaimWorkersStatus status = new ClaimWorkersStatus(true, 3, 2, 5, 12, 7, 0, 1, 0, 0, 0, 0, 0);

    assertThat(status.summary())
        .isEqualTo(
            "running concurrency=3 activeWorkers=2 held=5 claimed=12 completed=7 failed=0"
                + " retried=1 leaseLost=0 reclaimed=0 givenBack=0 abandoned=0 storeErrors=0");
  }

  @Test
  void reaperReturnsItemsOfWorkersThatVanished() {
    ManualClock clock = new ManualClock();
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create(clock);
    repository.addAll(items(3));
    // Started all three, and was never heard of again.
    repository.claim("crashed", 3, ofSeconds(30)).forEach(repository::markStarted);
    clock.advance(ofSeconds(31));
    Map<String, Integer> handled = new ConcurrentHashMap<>();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> handled.merge(c.item(), c.attempt(), Integer::sum))
                .config(fast().reaperInterval(ofMillis(10)).reclaimJitter(ZERO).build()));

    // The reaper counts what it reclaimed after the store call, when workers may be done already.
    await()
        .atMost(ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(workers.status())
                    .extracting(ClaimWorkersStatus::completed, ClaimWorkersStatus::reclaimed)
                    .containsExactly(3L, 3L));

    assertThat(handled)
        .containsOnlyKeys(items(3))
        .allSatisfy((item, attempt) -> assertThat(attempt).isEqualTo(2));
  }
}
