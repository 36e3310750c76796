package dev.fanout.lease;

import static java.time.Duration.ZERO;
import static java.time.Duration.ofMillis;
import static java.time.Duration.ofMinutes;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/** Regressions of {@link ClaimWorkers}, each named after what broke. */
class ClaimWorkersRegressionTest extends ClaimWorkersFixture {
  private static void awaitOpen(CountDownLatch latch) {
    try {
      assertThat(latch.await(10, TimeUnit.SECONDS)).as("latch opened in time").isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * The heartbeat took its snapshot of held claims, the worker completed one of them, and the
   * renewal then reached the store: refused, since the item is completed — by this very worker.
   * That refusal is no lost lease and must not be reported as one.
   */
  @Test
  void noRenewalRefusedWarningForAClaimTheWorkerHasJustCompleted() {
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create();
    store.add("raced-item");
    CountDownLatch snapshotTaken = latch();
    CountDownLatch completedInStore = latch();
    CountDownLatch renewalAnswered = latch();
    AtomicInteger refused = new AtomicInteger();
    AtomicBoolean raced = new AtomicBoolean();
    ClaimLeaseRepository<String> repository =
        new ForwardingRepository<>(store) {
          @Override
          public BatchOutcome<String> renewAll(Collection<Claim<String>> claims, Duration lease) {
            if (!raced.compareAndSet(false, true)) {
              return delegate.renewAll(claims, lease);
            }
            snapshotTaken.countDown(); // the claim is in this renewal
            awaitOpen(completedInStore); // and the worker completes it meanwhile
            BatchOutcome<String> outcome = delegate.renewAll(claims, lease);
            refused.addAndGet(outcome.leaseLost().size());
            renewalAnswered.countDown();
            return outcome;
          }

          @Override
          public void complete(Claim<String> claim) {
            delegate.complete(claim);
            completedInStore.countDown();
            awaitOpen(renewalAnswered); // the worker is still inside its completion
          }
        };
    AtomicReference<Claim<String>> handled = new AtomicReference<>();
    try (CapturedStderr err = new CapturedStderr()) {
      ClaimWorkers<String> workers =
          start(
              ClaimWorkers.builder(
                      repository,
                      (Claim<String> c) -> {
                        handled.set(c);
                        awaitOpen(snapshotTaken);
                      })
                  .config(
                      fast()
                          .concurrency(1)
                          .leaseDuration(ofMinutes(10))
                          .heartbeatInterval(ofMillis(10))
                          .build()));
      await().atMost(ofSeconds(10)).until(() -> workers.status().completed() == 1);
      assertThat(workers.stop()).isTrue();
      LoggerFactory.getLogger(ClaimWorkers.class).warn("probe: the log capture works");

      assertThat(refused).as("the renewal really was refused").hasValue(1);
      assertThat(err.text()).contains("probe: the log capture works");
      assertThat(err.text()).doesNotContain("renewal of the lease on item raced-item");
      assertThat(handled.get().isLeaseLost()).isFalse();
      assertThat(workers.status().leaseLost()).isZero();
    }
  }

  /**
   * A worker claims a batch whose first item kills it, again and again. The items behind the
   * poison never ran, so their expired leases must not count as attempts: they all complete, and
   * only the poison is failed, after maxAttempts runs.
   */
  @Test
  void batchMatesOfAnItemThatKillsItsWorkerCompleteAndOnlyThePoisonFails() {
    ManualClock clock = new ManualClock();
    InMemoryClaimLeaseRepository<String> store =
        InMemoryClaimLeaseRepository.create(clock, new SplittableRandom(42));
    String poison = "poison";
    store.add(poison); // first in every batch, at least at first
    List<String> mates = IntStream.range(0, 7).mapToObj(i -> "mate-" + i).toList();
    store.addAll(mates);
    Map<String, Integer> runs = new ConcurrentHashMap<>();
    int maxAttempts = 3;
    int lives = 0;
    while (!store.counts().settled()) {
      assertThat(++lives).as("lives needed").isLessThanOrEqualTo(10);
      CrashingRepository<String> process = new CrashingRepository<>(store);
      ClaimWorkers<String> workers =
          start(
              ClaimWorkers.builder(
                      process,
                      (Claim<String> c) -> {
                        runs.merge(c.item(), 1, Integer::sum);
                        if (c.item().equals(poison)) {
                          process.dead = true; // the JVM is gone: no call reaches the store
                          new CountDownLatch(1).await();
                        }
                      })
                  .config(
                      fast()
                          .concurrency(1)
                          .batchSize(mates.size() + 1)
                          .leaseDuration(ofSeconds(30))
                          .reaperInterval(ZERO)
                          .maxAttempts(maxAttempts)
                          .build()));
      await().atMost(ofSeconds(10)).until(() -> process.dead || store.counts().settled());
      workers.stop(ZERO);
      // Its leases run out; a reaper elsewhere returns its items, spread over 5 s.
      clock.advance(ofSeconds(31));
      store.reclaimExpired(ofSeconds(5));
      clock.advance(ofSeconds(6));
    }

    assertThat(mates).allSatisfy(m -> assertThat(store.state(m)).contains(LeaseState.COMPLETED));
    assertThat(store.state(poison)).contains(LeaseState.FAILED);
    assertThat(runs.get(poison)).isEqualTo(maxAttempts);
    assertThat(mates).allSatisfy(m -> assertThat(runs.get(m)).as("runs of %s", m).isEqualTo(1));
  }

  /** Plays a process that died: once {@link #dead}, no call reaches the store. */
  private static final class CrashingRepository<T> extends ForwardingRepository<T> {
    volatile boolean dead;

    CrashingRepository(ClaimLeaseRepository<T> delegate) {
      super(delegate);
    }

    private void alive() {
      if (dead) {
        throw new LeaseStoreException("process is dead", new java.io.IOException("gone"));
      }
    }

    @Override
    public List<Claim<T>> claim(String workerId, int limit, Duration lease) {
      alive();
      return super.claim(workerId, limit, lease);
    }

    @Override
    public BatchOutcome<T> renewAll(Collection<Claim<T>> claims, Duration lease) {
      alive();
      return super.renewAll(claims, lease);
    }

    @Override
    public void markStarted(Claim<T> claim) {
      alive();
      super.markStarted(claim);
    }

    @Override
    public void complete(Claim<T> claim) {
      alive();
      super.complete(claim);
    }

    @Override
    public void release(Claim<T> claim, Duration retryAfter) {
      alive();
      super.release(claim, retryAfter);
    }

    @Override
    public void giveBack(Claim<T> claim) {
      alive();
      super.giveBack(claim);
    }

    @Override
    public void fail(Claim<T> claim, String reason) {
      alive();
      super.fail(claim, reason);
    }
  }

  /**
   * When the store refuses to renew the lease of an item whose handler is running, the handler
   * is interrupted and its claim says lease lost, so that a stale run stops writing downstream.
   */
  @Test
  void handlerWhoseRenewalIsRefusedIsInterruptedAndSeesLeaseLost() {
    ManualClock clock = new ManualClock();
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create(clock);
    store.add("slow");
    CountDownLatch started = latch();
    CountDownLatch never = latch();
    AtomicReference<Claim<String>> seen = new AtomicReference<>();
    AtomicBoolean interrupted = new AtomicBoolean();
    AtomicBoolean lostWhenInterrupted = new AtomicBoolean();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    store,
                    (Claim<String> c) -> {
                      seen.set(c);
                      started.countDown();
                      try {
                        never.await();
                      } catch (InterruptedException e) {
                        lostWhenInterrupted.set(c.isLeaseLost());
                        interrupted.set(true);
                        c.checkLease(); // throws LeaseLostException
                      }
                    })
                .config(
                    fast()
                        .concurrency(1)
                        .leaseDuration(ofSeconds(10))
                        .heartbeatInterval(ofMillis(10))
                        .reaperInterval(ZERO)
                        .build()));
    awaitOpen(started);

    clock.advance(ofSeconds(11)); // the lease ends: the next renewal is refused

    await().atMost(ofSeconds(10)).untilTrue(interrupted);
    assertThat(lostWhenInterrupted).isTrue();
    assertThat(seen.get().isLeaseLost()).isTrue();
    await().atMost(ofSeconds(10)).until(() -> workers.status().leaseLost() == 1);
    assertThat(workers.status())
        .satisfies(s -> assertThat(s.accountedFor()).isTrue())
        .extracting(ClaimWorkersStatus::held, ClaimWorkersStatus::completed)
        .containsExactly(0, 0L);
    // The item was left to the store: its lease has ended, and the reaper returns it.
    assertThat(store.reclaimExpired()).isEqualTo(1);
  }

  /**
   * Many workers, a store whose calls fail at random (some after taking effect), handlers that
   * fail at random: every claim ends in exactly one counter, in every snapshot, and awaitDrained
   * returns once the store is dry.
   */
  @Test
  void everyClaimIsAccountedForUnderStoreFaults() throws Exception {
    InMemoryClaimLeaseRepository<Integer> store = InMemoryClaimLeaseRepository.create();
    int n = 1500;
    store.addAll(IntStream.range(0, n).boxed().toList());
    FaultyRepository<Integer> repository = new FaultyRepository<>(store, 7, 0.1);
    SplittableRandom handlerRandom = new SplittableRandom(11);
    ClaimWorkers<Integer> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<Integer> c) -> {
                      boolean fail;
                      synchronized (handlerRandom) {
                        fail = handlerRandom.nextInt(10) == 0;
                      }
                      if (fail) {
                        throw new IllegalStateException("handler failed on " + c.item());
                      }
                    })
                .config(
                    fast()
                        .concurrency(8)
                        .batchSize(5)
                        .maxAttempts(3)
                        .leaseDuration(ofMillis(600))
                        .heartbeatInterval(ofMillis(150))
                        .reaperInterval(ofMillis(100))
                        .reclaimJitter(ofMillis(20))
                        .build()));
    AtomicInteger samples = new AtomicInteger();
    List<ClaimWorkersStatus> unbalanced = new ArrayList<>();
    AtomicBoolean sampling = new AtomicBoolean(true);
    Thread sampler =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (sampling.get()) {
                    ClaimWorkersStatus s = workers.status();
                    samples.incrementAndGet();
                    if (!s.accountedFor()) {
                      synchronized (unbalanced) {
                        unbalanced.add(s);
                      }
                    }
                    Thread.onSpinWait();
                  }
                });

    boolean drained = workers.awaitDrained(ofSeconds(90));
    sampling.set(false);
    sampler.join();
    assertThat(workers.stop()).isTrue();

    assertThat(drained).isTrue();
    assertThat(repository.faults()).as("faults injected").isGreaterThan(50);
    assertThat(samples).hasValueGreaterThan(100);
    assertThat(unbalanced).as("snapshots that did not add up").isEmpty();
    ClaimWorkersStatus end = workers.status();
    assertThat(end.held()).isZero();
    assertThat(end.claimed())
        .as(end.summary())
        .isEqualTo(
            end.completed()
                + end.failed()
                + end.retried()
                + end.givenBack()
                + end.leaseLost()
                + end.abandoned());
    assertThat(end.storeErrors()).isEqualTo(workers.storeErrors()).isGreaterThan(0);
    LeaseCounts counts = store.counts();
    assertThat(counts.pending()).isZero();
    assertThat(counts.claimed()).isZero();
    assertThat(counts.completed() + counts.failed()).isEqualTo(n);
  }

  @Test
  void awaitDrainedWaitsForHeldItemsAndReturnsOnceTheStoreIsDry() throws Exception {
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create();
    store.addAll(List.of("a", "b", "c"));
    CountDownLatch finish = latch();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    store,
                    (Claim<String> c) -> {
                      if (c.item().equals("b")) {
                        finish.await();
                      }
                    })
                .config(fast().concurrency(2).batchSize(1).build()));

    assertThat(workers.awaitDrained(ofMillis(200))).isFalse();
    assertThat(workers.status().held()).isEqualTo(1);
    finish.countDown();
    assertThat(workers.awaitDrained(ofSeconds(10))).isTrue();
    assertThat(store.counts()).isEqualTo(new LeaseCounts(0, 0, 3, 0));
    assertThat(workers.status().held()).isZero();
  }

  /**
   * The store settled a claim — completed, released or failed it — but its reply was lost, so the
   * worker tried again: the retry must be recognised as the same claim's settle, not counted as a
   * lost lease. Every item's first reply of each kind is lost here.
   */
  @ParameterizedTest(name = "completionBatchSize={0}")
  @ValueSource(ints = {1, 4})
  void settleCallsWhoseReplyWasLostAreCountedAsWhatTheyDid(int completionBatchSize)
      throws Exception {
    InMemoryClaimLeaseRepository<Integer> store = InMemoryClaimLeaseRepository.create();
    int n = 60;
    store.addAll(IntStream.range(0, n).boxed().toList());
    LosesFirstReplies<Integer> repository = new LosesFirstReplies<>(store);
    ClaimWorkers<Integer> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<Integer> c) -> {
                      // A third always fails (released, then failed on its last attempt), a third
                      // fails its first attempt only (released, then completed), a third succeeds.
                      if (c.item() % 3 == 0 || (c.item() % 3 == 1 && c.attempt() == 1)) {
                        throw new IllegalStateException("handler failed on " + c.item());
                      }
                    })
                .config(
                    fast()
                        .concurrency(4)
                        .batchSize(3)
                        .maxAttempts(2)
                        .leaseDuration(ofMinutes(10))
                        .completionBatching(completionBatchSize, ofMillis(10))
                        .build()));

    assertThat(workers.awaitDrained(ofSeconds(30))).isTrue();
    assertThat(workers.stop()).isTrue();

    ClaimWorkersStatus end = workers.status();
    assertThat(repository.lost()).as("replies lost").isGreaterThanOrEqualTo(n);
    assertThat(store.counts()).isEqualTo(new LeaseCounts(0, 0, 2 * n / 3, n / 3));
    assertThat(end.completed()).as(end.summary()).isEqualTo(2 * n / 3);
    assertThat(end.failed()).as(end.summary()).isEqualTo(n / 3);
    assertThat(end.retried()).as(end.summary()).isEqualTo(2 * n / 3);
    assertThat(end.leaseLost()).as(end.summary()).isZero();
    assertThat(end.abandoned()).as(end.summary()).isZero();
    assertThat(end.held()).isZero();
    assertThat(end.claimed()).isEqualTo(n + 2 * n / 3);
    assertThat(end.accountedFor()).as(end.summary()).isTrue();
    assertThat(end.storeErrors()).isEqualTo(repository.lost());
  }

  /** As above, for the claims a stopping worker gives back. */
  @Test
  void giveBackWhoseReplyWasLostIsCountedAsGivenBack() throws Exception {
    InMemoryClaimLeaseRepository<String> store = InMemoryClaimLeaseRepository.create();
    store.addAll(List.of("a", "b", "c"));
    LosesFirstReplies<String> repository = new LosesFirstReplies<>(store);
    CountDownLatch entered = latch();
    CountDownLatch finish = latch();
    ClaimWorkers<String> workers =
        start(
            ClaimWorkers.builder(
                    repository,
                    (Claim<String> c) -> {
                      entered.countDown();
                      finish.await();
                    })
                .config(fast().concurrency(1).batchSize(3).leaseDuration(ofMinutes(10)).build()));
    awaitOpen(entered);
    Thread stopper = Thread.ofPlatform().start(workers::stop);
    await().atMost(ofSeconds(10)).until(() -> !workers.isRunning());
    finish.countDown(); // "a" completes; "b" and "c" are given back, unworked
    stopper.join(TimeUnit.SECONDS.toMillis(20));
    assertThat(stopper.isAlive()).isFalse();

    ClaimWorkersStatus end = workers.status();
    assertThat(repository.lost()).as("replies lost").isEqualTo(3);
    assertThat(end.completed()).as(end.summary()).isEqualTo(1);
    assertThat(end.givenBack()).as(end.summary()).isEqualTo(2);
    assertThat(end.leaseLost()).as(end.summary()).isZero();
    assertThat(end.accountedFor()).as(end.summary()).isTrue();
    assertThat(store.counts()).isEqualTo(new LeaseCounts(2, 0, 1, 0));
    List<Claim<String>> again = store.claim("next", 3, ofMinutes(1));
    assertThat(again).extracting(Claim::attempt).containsOnly(1);
  }

  /**
   * Applies each settling call, then throws {@link LeaseStoreException} as if its reply was lost —
   * once per kind of call and item (once per batch for {@code completeAll}); the retry gets the
   * store's real answer.
   */
  private static final class LosesFirstReplies<T> extends ForwardingRepository<T> {
    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    private final AtomicInteger lost = new AtomicInteger();

    LosesFirstReplies(ClaimLeaseRepository<T> delegate) {
      super(delegate);
    }

    int lost() {
      return lost.get();
    }

    private void loseFirstReply(String call, Object item) {
      if (seen.add(call + " " + item)) {
        lost.incrementAndGet();
        throw new LeaseStoreException(
            call + " of " + item + " failed: the connection broke before the reply came",
            new java.io.IOException("connection reset"));
      }
    }

    @Override
    public void complete(Claim<T> claim) {
      delegate.complete(claim);
      loseFirstReply("complete", claim.item());
    }

    @Override
    public BatchOutcome<T> completeAll(Collection<Claim<T>> claims) {
      BatchOutcome<T> outcome = delegate.completeAll(claims);
      boolean first = false;
      for (Claim<T> claim : claims) {
        first |= seen.add("complete " + claim.item());
      }
      if (first) {
        lost.incrementAndGet();
        throw new LeaseStoreException(
            "complete " + claims.size() + " claims failed: the connection broke before the reply",
            new java.io.IOException("connection reset"));
      }
      return outcome;
    }

    @Override
    public void release(Claim<T> claim, Duration retryAfter) {
      delegate.release(claim, retryAfter);
      loseFirstReply("release", claim.item());
    }

    @Override
    public void giveBack(Claim<T> claim) {
      delegate.giveBack(claim);
      loseFirstReply("give back", claim.item());
    }

    @Override
    public void fail(Claim<T> claim, String reason) {
      delegate.fail(claim, reason);
      loseFirstReply("fail", claim.item());
    }
  }

  /**
   * Fails calls at random with {@link LeaseStoreException}: half of them before the call, half
   * after it took effect (the caller cannot tell which).
   */
  private static final class FaultyRepository<T> extends ForwardingRepository<T> {
    private final SplittableRandom random;
    private final double rate;
    private final AtomicInteger faults = new AtomicInteger();

    FaultyRepository(ClaimLeaseRepository<T> delegate, long seed, double rate) {
      super(delegate);
      this.random = new SplittableRandom(seed);
      this.rate = rate;
    }

    int faults() {
      return faults.get();
    }

    /** 0: no fault, 1: fault before the call, 2: fault after it. */
    private int draw() {
      double d;
      synchronized (random) {
        d = random.nextDouble();
      }
      if (d >= rate) {
        return 0;
      }
      faults.incrementAndGet();
      return d < rate / 2 ? 1 : 2;
    }

    private <R> R faulty(java.util.function.Supplier<R> call) {
      int fault = draw();
      if (fault == 1) {
        throw new LeaseStoreException("injected before", new java.io.IOException("reset"));
      }
      R result = call.get();
      if (fault == 2) {
        throw new LeaseStoreException("injected after", new java.io.IOException("reset"));
      }
      return result;
    }

    private void faulty(Runnable call) {
      faulty(
          () -> {
            call.run();
            return null;
          });
    }

    @Override
    public List<Claim<T>> claim(String workerId, int limit, Duration lease) {
      // A fault after a claim took effect leaves the claims to the reaper, as a lost reply would.
      return faulty(() -> super.claim(workerId, limit, lease));
    }

    @Override
    public BatchOutcome<T> renewAll(Collection<Claim<T>> claims, Duration lease) {
      return faulty(() -> super.renewAll(claims, lease));
    }

    @Override
    public void markStarted(Claim<T> claim) {
      faulty(() -> super.markStarted(claim));
    }

    @Override
    public void complete(Claim<T> claim) {
      faulty(() -> super.complete(claim));
    }

    @Override
    public void release(Claim<T> claim, Duration retryAfter) {
      faulty(() -> super.release(claim, retryAfter));
    }

    @Override
    public void giveBack(Claim<T> claim) {
      faulty(() -> super.giveBack(claim));
    }

    @Override
    public void fail(Claim<T> claim, String reason) {
      faulty(() -> super.fail(claim, reason));
    }

    @Override
    public int reclaimExpired(Duration jitter) {
      return faulty(() -> super.reclaimExpired(jitter));
    }
  }
}
