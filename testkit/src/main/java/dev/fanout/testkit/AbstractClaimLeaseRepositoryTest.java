package dev.fanout.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fanout.lease.BatchOutcome;
import dev.fanout.lease.Claim;
import dev.fanout.lease.ClaimLeaseRepository;
import dev.fanout.lease.ClaimWorkers;
import dev.fanout.lease.ClaimWorkersConfig;
import dev.fanout.lease.LeaseCounts;
import dev.fanout.lease.LeaseLostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The conformance kit for {@link ClaimLeaseRepository}: every implementation — the in-memory one,
 * the JDBC one on H2 and on PostgreSQL, and yours — extends this class and so runs the same
 * tests of the SPI's semantics: atomic claims and no duplicates across concurrent claimers,
 * fencing by token, renewal, release with a retry time, give-back, failure, the reaper (which must
 * never take back a lease renewed a moment ago, counts only runs that were marked started as
 * attempts, and spreads what it returns over its jitter), bad arguments, and {@link ClaimWorkers}
 * on top.
 *
 * {@snippet :
 * class MyRepositoryTest extends AbstractClaimLeaseRepositoryTest<Long> {
 *   private MyRepository repository;
 *   private long nextId;
 *
 *   @Override protected ClaimLeaseRepository<Long> createRepository() {
 *     repository = MyRepository.createEmpty();
 *     return repository;
 *   }
 *   @Override protected List<Long> addItems(int n) {
 *     List<Long> ids = LongStream.range(nextId, nextId + n).boxed().toList();
 *     nextId += n;
 *     repository.insert(ids);
 *     return ids;
 *   }
 *   @Override protected Long unknownItem() { return -1L; }
 *   @Override protected Instant now() { return repository.storeTime(); }
 * }
 * }
 *
 * <p>Time: the tests never sleep. Where a lease must end they call {@link #advance(Duration)},
 * which by default waits (polling, not sleeping blindly) until {@link #now()} — the store's clock
 * — has moved far enough, with leases of {@link #shortLease()}. A store on a clock the test
 * controls overrides {@code advance} to move it, and the tests run at full speed.
 *
 * @param <T> the item type
 *
 * <p>Why this class is long (~960 lines): it is the conformance kit every repository runs; one
 * class keeps each implementation's subclass to a few lines.
 */
public abstract class AbstractClaimLeaseRepositoryTest<T> {

  /** A lease no test waits out. */
  protected static final Duration LONG_LEASE = Duration.ofMinutes(10);

  private ClaimLeaseRepository<T> repository;

  /** A new, empty store for one test; called before each test. */
  protected abstract ClaimLeaseRepository<T> createRepository();

  /**
   * Adds {@code n} new items, PENDING and available now, each added after the one before, and
   * returns them in that order.
   */
  protected abstract List<T> addItems(int n);

  /** An item the store has never held. */
  protected abstract T unknownItem();

  /** The store's clock now: the clock that decides when leases end. */
  protected abstract Instant now();

  /**
   * Makes the store's clock move forward by at least {@code d}. The default waits until {@link
   * #now()} has passed its value at the call plus {@code d}; override it to move a fake clock.
   */
  protected void advance(Duration d) {
    Instant target = now().plus(d);
    awaitUntil(
        "the store's clock to pass " + target, d.plusSeconds(30), () -> now().isAfter(target));
  }

  /**
   * A lease for tests in which a lease must end: short enough to wait out on a real clock, long
   * enough that it does not end early on a slow machine. Default 1.5 s.
   */
  protected Duration shortLease() {
    return Duration.ofMillis(1500);
  }

  /**
   * Polls {@code condition} every 10 ms until it holds, failing after {@code atMost}. (Awaitility
   * would do; the kit does without it so that its module needs no automatic module.)
   */
  protected static void awaitUntil(String what, Duration atMost, BooleanSupplier condition) {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("gave up waiting " + atMost + " for " + what);
      }
      LockSupport.parkNanos(10_000_000L);
    }
  }

  /** The store under test, made by {@link #createRepository()} for the current test. */
  protected final ClaimLeaseRepository<T> repository() {
    return repository;
  }

  @BeforeEach
  final void createStore() {
    repository = createRepository();
  }

  private Claim<T> claimOne(String workerId, Duration lease) {
    List<Claim<T>> claims = repository.claim(workerId, 1, lease);
    assertThat(claims).as("claims of %s", workerId).hasSize(1);
    return claims.get(0);
  }

  private List<T> itemsOf(List<Claim<T>> claims) {
    return claims.stream().map(Claim::item).toList();
  }

  // ---------------------------------------------------------------------------------------------
  // Claiming

  @Test
  void claimTakesUpToLimitOldestFirst() {
    List<T> items = addItems(5);

    List<Claim<T>> claims = repository.claim("w1", 3, LONG_LEASE);

    assertThat(itemsOf(claims)).containsExactlyInAnyOrderElementsOf(items.subList(0, 3));
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(2, 3, 0, 0));
  }

  @Test
  void claimFillsInWorkerTokenAttemptAndLease() {
    addItems(1);
    Instant before = now();

    Claim<T> claim = claimOne("worker-a", LONG_LEASE);

    assertThat(claim.workerId()).isEqualTo("worker-a");
    assertThat(claim.token()).isPositive();
    assertThat(claim.attempt()).isEqualTo(1);
    assertThat(claim.claimedAt()).isAfterOrEqualTo(before.minusSeconds(1));
    assertThat(Duration.between(claim.claimedAt(), claim.leaseUntil())).isEqualTo(LONG_LEASE);
  }

  @Test
  void claimReturnsNothingWhenNothingIsAvailable() {
    assertThat(repository.claim("w1", 10, LONG_LEASE)).isEmpty();
    addItems(2);
    assertThat(repository.claim("w1", 10, LONG_LEASE)).hasSize(2);
    assertThat(repository.claim("w2", 10, LONG_LEASE)).isEmpty();
  }

  @Test
  void claimedItemsAreNotClaimedAgain() {
    List<T> items = addItems(4);

    List<Claim<T>> first = repository.claim("w1", 2, LONG_LEASE);
    List<Claim<T>> second = repository.claim("w2", 10, LONG_LEASE);

    Set<T> all = new HashSet<>(itemsOf(first));
    all.addAll(itemsOf(second));
    assertThat(first).hasSize(2);
    assertThat(second).hasSize(2);
    assertThat(all).containsExactlyInAnyOrderElementsOf(items);
    assertThat(repository.claim("w3", 10, LONG_LEASE)).isEmpty();
  }

  @Test
  @Timeout(120)
  void concurrentClaimersNeverGetTheSameItem() throws Exception {
    int n = 600;
    int threads = 8;
    List<T> items = addItems(n);
    Map<T, Integer> completions = new ConcurrentHashMap<>();
    Map<T, Set<Long>> tokens = new ConcurrentHashMap<>();
    AtomicInteger duplicateTokens = new AtomicInteger();
    AtomicInteger releases = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String workerId = "w" + t;
        futures.add(
            pool.submit(
                () -> {
                  go.await();
                  ThreadLocalRandom random = ThreadLocalRandom.current();
                  int emptyPolls = 0;
                  while (emptyPolls < 3) {
                    List<Claim<T>> claims =
                        repository.claim(workerId, random.nextInt(1, 9), LONG_LEASE);
                    if (claims.isEmpty()) {
                      emptyPolls = repository.counts().settled() ? emptyPolls + 1 : 0;
                      Thread.yield();
                      continue;
                    }
                    emptyPolls = 0;
                    for (Claim<T> claim : claims) {
                      if (!tokens
                          .computeIfAbsent(claim.item(), k -> ConcurrentHashMap.newKeySet())
                          .add(claim.token())) {
                        duplicateTokens.incrementAndGet();
                      }
                      // Mixed outcomes so that items come back and are claimed again.
                      int dice = random.nextInt(10);
                      if (dice == 0 && releases.incrementAndGet() < n) {
                        repository.release(claim, Duration.ZERO);
                      } else if (dice == 1) {
                        repository.giveBack(claim);
                      } else {
                        repository.complete(claim);
                        completions.merge(claim.item(), 1, Integer::sum);
                      }
                    }
                  }
                  return null;
                }));
      }
      go.countDown();
      for (Future<?> f : futures) {
        f.get(100, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(duplicateTokens).as("claims handed out twice with the same token").hasValue(0);
    assertThat(completions.keySet()).containsExactlyInAnyOrderElementsOf(items);
    assertThat(completions.values()).allMatch(c -> c == 1, "each item completed exactly once");
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, n, 0));
  }

  @Test
  void tokensGrowWithEveryClaimAndAttemptsCount() {
    T item = addItems(1).get(0);
    long lastToken = 0;
    for (int attempt = 1; attempt <= 5; attempt++) {
      Claim<T> claim = claimOne("w" + attempt, LONG_LEASE);
      assertThat(claim.item()).isEqualTo(item);
      assertThat(claim.token()).isGreaterThan(lastToken);
      assertThat(claim.attempt()).isEqualTo(attempt);
      lastToken = claim.token();
      repository.release(claim, Duration.ZERO);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Fencing

  @Test
  void staleClaimChangesNothingAndReportsLeaseLost() {
    addItems(1);
    Claim<T> stale = claimOne("w1", LONG_LEASE);
    repository.release(stale, Duration.ZERO);
    Claim<T> current = claimOne("w2", LONG_LEASE);
    assertThat(current.item()).isEqualTo(stale.item());
    assertThat(current.token()).isGreaterThan(stale.token());
    LeaseCounts before = repository.counts();

    List<Consumer<Claim<T>>> calls =
        List.of(
            c -> repository.complete(c),
            c -> repository.release(c, Duration.ZERO),
            c -> repository.giveBack(c),
            c -> repository.fail(c, "stale"),
            c -> repository.renew(c, LONG_LEASE),
            c -> repository.markStarted(c));
    for (Consumer<Claim<T>> call : calls) {
      assertThatThrownBy(() -> call.accept(stale))
          .isInstanceOf(LeaseLostException.class)
          .hasMessageContaining(String.valueOf(stale.item()))
          .satisfies(e -> assertThat(((LeaseLostException) e).claim()).isEqualTo(stale));
      assertThat(repository.counts()).isEqualTo(before);
    }

    // The current holder is untouched: its lease still renews and it completes.
    Claim<T> renewed = repository.renew(current, LONG_LEASE);
    assertThat(renewed.token()).isEqualTo(current.token());
    repository.complete(current);
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 1, 0));
  }

  @Test
  void workerWhoseLeaseWasReclaimedAndTakenOverGetsLeaseLost() {
    addItems(1);
    Claim<T> paused = claimOne("paused", shortLease());
    repository.markStarted(paused);
    advance(shortLease().plusMillis(1));
    assertThat(repository.reclaimExpired()).isEqualTo(1);
    Claim<T> survivor = claimOne("survivor", LONG_LEASE);
    assertThat(survivor.attempt()).isEqualTo(2);
    assertThat(survivor.token()).isGreaterThan(paused.token());

    assertThatThrownBy(() -> repository.complete(paused)).isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> repository.renew(paused, LONG_LEASE))
        .isInstanceOf(LeaseLostException.class);

    repository.complete(survivor);
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 1, 0));
  }

  @Test
  void reclaimedButNotRetakenClaimStillReportsLeaseLost() {
    addItems(1);
    Claim<T> paused = claimOne("paused", shortLease());
    advance(shortLease().plusMillis(1));
    assertThat(repository.reclaimExpired()).isEqualTo(1);

    assertThatThrownBy(() -> repository.complete(paused)).isInstanceOf(LeaseLostException.class);
    // The item is back in the pool as a release or give-back would leave it, but the reaper did
    // it: not to be taken for a retry of either.
    assertThatThrownBy(() -> repository.release(paused, Duration.ZERO))
        .isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> repository.giveBack(paused)).isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> repository.fail(paused, "late")).isInstanceOf(LeaseLostException.class);
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(1, 0, 0, 0));
    assertThat(claimOne("next", LONG_LEASE).attempt()).as("the unstarted run did not count").isOne();
  }

  @Test
  void lateWorkerWhoseItemNobodyTookMayStillComplete() {
    addItems(1);
    Claim<T> late = claimOne("late", shortLease());
    advance(shortLease().plusMillis(1));

    repository.complete(late);

    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 1, 0));
    assertThat(repository.reclaimExpired()).isZero();
  }

  /** Finished one way, a claim cannot finish its item another way, nor can an impostor. */
  @Test
  void finishedClaimsCannotBeFinishedAgain() {
    addItems(4);
    Claim<T> done = claimOne("w1", LONG_LEASE);
    Claim<T> failed = claimOne("w1", LONG_LEASE);
    Claim<T> released = claimOne("w1", LONG_LEASE);
    Claim<T> givenBack = claimOne("w1", LONG_LEASE);
    repository.complete(done);
    repository.fail(failed, "broken");
    repository.release(released, LONG_LEASE);
    repository.giveBack(givenBack);
    LeaseCounts settled = new LeaseCounts(2, 0, 1, 1);
    assertThat(repository.counts()).isEqualTo(settled);

    Map<Claim<T>, List<Consumer<Claim<T>>>> otherWays =
        Map.of(
            done,
            List.of(
                c -> repository.fail(c, "again"),
                c -> repository.release(c, Duration.ZERO),
                c -> repository.giveBack(c)),
            failed,
            List.of(
                c -> repository.complete(c),
                c -> repository.release(c, Duration.ZERO),
                c -> repository.giveBack(c)),
            released,
            List.of(
                c -> repository.complete(c),
                c -> repository.fail(c, "again"),
                c -> repository.giveBack(c)),
            givenBack,
            List.of(
                c -> repository.complete(c),
                c -> repository.fail(c, "again"),
                c -> repository.release(c, Duration.ZERO)));
    otherWays.forEach(
        (claim, calls) -> {
          for (Consumer<Claim<T>> call : calls) {
            assertThatThrownBy(() -> call.accept(claim))
                .as("%s", claim)
                .isInstanceOf(LeaseLostException.class)
                .satisfies(e -> assertThat(((LeaseLostException) e).claim()).isEqualTo(claim));
            assertThat(repository.counts()).isEqualTo(settled);
          }
        });

    // The same item and token under another worker's name is not the claim that settled it.
    List<Consumer<Claim<T>>> sameWay =
        List.of(
            c -> repository.complete(c),
            c -> repository.fail(c, "broken"),
            c -> repository.release(c, LONG_LEASE),
            c -> repository.giveBack(c));
    List<Claim<T>> settledClaims = List.of(done, failed, released, givenBack);
    for (int i = 0; i < settledClaims.size(); i++) {
      Claim<T> claim = settledClaims.get(i);
      Claim<T> impostor =
          new Claim<>(
              claim.item(),
              "impostor",
              claim.token(),
              claim.claimedAt(),
              claim.leaseUntil(),
              claim.attempt());
      Consumer<Claim<T>> call = sameWay.get(i);
      assertThatThrownBy(() -> call.accept(impostor)).isInstanceOf(LeaseLostException.class);
    }
    assertThat(repository.counts()).isEqualTo(settled);
    assertThat(claimOne("w2", LONG_LEASE).item()).as("given back").isEqualTo(givenBack.item());
    assertThat(repository.claim("w2", 10, LONG_LEASE)).as("released for later").isEmpty();
  }

  /**
   * A store that applied a settling call but whose reply was lost gets the same call again: it
   * succeeds and changes nothing, so that the caller learns the call took effect.
   */
  @Test
  void settlingAgainTheSameWayWithTheSameClaimSucceedsAndChangesNothing() {
    addItems(4);
    Claim<T> done = claimOne("w1", LONG_LEASE);
    Claim<T> failed = claimOne("w1", LONG_LEASE);
    Claim<T> released = claimOne("w1", LONG_LEASE);
    Claim<T> givenBack = claimOne("w1", LONG_LEASE);
    repository.complete(done);
    repository.fail(failed, "broken");
    repository.release(released, LONG_LEASE);
    repository.giveBack(givenBack);
    LeaseCounts settled = new LeaseCounts(2, 0, 1, 1);

    repository.complete(done);
    repository.fail(failed, "another reason");
    repository.release(released, Duration.ZERO);
    repository.giveBack(givenBack);
    BatchOutcome<T> again = repository.completeAll(List.of(done));
    assertThat(again.applied()).containsExactly(done);
    assertThat(again.leaseLost()).isEmpty();

    assertThat(repository.counts()).isEqualTo(settled);
    Claim<T> next = claimOne("w2", LONG_LEASE);
    assertThat(next.item()).isEqualTo(givenBack.item());
    assertThat(next.attempt()).as("given back once, not twice").isOne();
    assertThat(repository.claim("w2", 10, LONG_LEASE))
        .as("the first release's retry time stands")
        .isEmpty();
    // Claimed again since, the item's give-back by the old claim is stale.
    assertThatThrownBy(() -> repository.giveBack(givenBack))
        .isInstanceOf(LeaseLostException.class);
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(1, 1, 1, 1));
  }

  /** A batch whose reply was lost is sent again: what it completed counts as applied. */
  @Test
  void completeAllRetriedAfterItAppliedReportsTheSameClaimsApplied() {
    addItems(3);
    List<Claim<T>> claims = repository.claim("w1", 3, LONG_LEASE);
    repository.release(claims.get(2), Duration.ZERO);
    BatchOutcome<T> first = repository.completeAll(claims);

    BatchOutcome<T> retried = repository.completeAll(claims);

    assertThat(first.applied()).containsExactlyInAnyOrder(claims.get(0), claims.get(1));
    assertThat(retried.applied()).containsExactlyInAnyOrder(claims.get(0), claims.get(1));
    assertThat(retried.leaseLost()).containsExactly(claims.get(2));
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(1, 0, 2, 0));
  }

  @Test
  void completeAllCompletesCurrentClaimsAndReportsTheOthers() {
    addItems(5);
    List<Claim<T>> claims = repository.claim("w1", 5, LONG_LEASE);
    repository.release(claims.get(1), Duration.ZERO);
    repository.complete(claims.get(3)); // completed by this very claim: no lost lease
    repository.fail(claims.get(4), "no");

    BatchOutcome<T> outcome = repository.completeAll(claims);

    assertThat(outcome.applied())
        .containsExactlyInAnyOrder(claims.get(0), claims.get(2), claims.get(3));
    assertThat(outcome.leaseLost()).containsExactlyInAnyOrder(claims.get(1), claims.get(4));
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(1, 0, 3, 1));
  }

  // ---------------------------------------------------------------------------------------------
  // Renewal and the reaper

  @Test
  void renewExtendsTheLeaseSoTheReaperLeavesIt() {
    addItems(1);
    Claim<T> claim = claimOne("w1", shortLease());

    Claim<T> renewed = repository.renew(claim, LONG_LEASE);
    assertThat(renewed.leaseUntil()).isAfter(claim.leaseUntil());
    assertThat(renewed.token()).isEqualTo(claim.token());
    advance(shortLease().plusMillis(1));

    assertThat(repository.reclaimExpired()).isZero();
    repository.complete(renewed);
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 1, 0));
  }

  @Test
  void renewAfterTheLeaseEndedReportsLeaseLost() {
    addItems(1);
    Claim<T> claim = claimOne("w1", shortLease());
    advance(shortLease().plusMillis(1));

    assertThatThrownBy(() -> repository.renew(claim, LONG_LEASE))
        .isInstanceOf(LeaseLostException.class);
  }

  @Test
  void renewAllRenewsCurrentClaimsAndReportsTheOthers() {
    addItems(3);
    List<Claim<T>> claims = repository.claim("w1", 3, shortLease());
    repository.release(claims.get(1), Duration.ZERO);

    BatchOutcome<T> outcome = repository.renewAll(claims, LONG_LEASE);

    assertThat(outcome.leaseLost()).containsExactly(claims.get(1));
    assertThat(outcome.applied()).hasSize(2);
    for (Claim<T> renewed : outcome.applied()) {
      Claim<T> original =
          renewed.item().equals(claims.get(0).item()) ? claims.get(0) : claims.get(2);
      assertThat(renewed.token()).isEqualTo(original.token());
      assertThat(renewed.leaseUntil()).isAfter(original.leaseUntil());
    }
    advance(shortLease().plusMillis(1));
    assertThat(repository.reclaimExpired()).isZero();
  }

  @Test
  void reclaimExpiredReturnsEndedLeasesOnly() {
    addItems(3);
    List<Claim<T>> shortOnes = repository.claim("w1", 2, shortLease());
    shortOnes.forEach(repository::markStarted);
    Claim<T> longOne = claimOne("w2", LONG_LEASE);
    advance(shortLease().plusMillis(1));

    assertThat(repository.reclaimExpired()).isEqualTo(2);
    assertThat(repository.reclaimExpired()).isZero();

    List<Claim<T>> again = repository.claim("w3", 10, LONG_LEASE);
    assertThat(itemsOf(again)).containsExactlyInAnyOrderElementsOf(itemsOf(shortOnes));
    assertThat(again).allSatisfy(c -> assertThat(c.attempt()).isEqualTo(2));
    repository.complete(longOne);
  }

  @Test
  void expiredClaimsCountAsAttemptsOnlyIfTheirRunStarted() {
    List<T> items = addItems(3);
    List<Claim<T>> batch = repository.claim("crashes-on-the-first", 3, shortLease());
    assertThat(itemsOf(batch)).containsExactlyElementsOf(items);
    repository.markStarted(batch.get(0)); // the worker died on it; the others never started
    advance(shortLease().plusMillis(1));

    assertThat(repository.reclaimExpired()).isEqualTo(3);

    Map<T, Integer> attempts = new HashMap<>();
    for (Claim<T> c : repository.claim("w2", 3, LONG_LEASE)) {
      attempts.put(c.item(), c.attempt());
    }
    assertThat(attempts)
        .containsExactlyInAnyOrderEntriesOf(Map.of(items.get(0), 2, items.get(1), 1, items.get(2), 1));
  }

  @Test
  void markStartedIsIdempotentAndNeedsALiveLease() {
    addItems(1);
    Claim<T> live = claimOne("w1", LONG_LEASE);
    repository.markStarted(live);
    repository.markStarted(live); // again: still one attempt
    repository.release(live, Duration.ZERO);
    Claim<T> second = claimOne("w2", LONG_LEASE);
    assertThat(second.attempt()).isEqualTo(2);
    repository.complete(second);

    addItems(1);
    Claim<T> ended = claimOne("w3", shortLease());
    advance(shortLease().plusMillis(1));
    assertThatThrownBy(() -> repository.markStarted(ended))
        .isInstanceOf(LeaseLostException.class)
        .hasMessageContaining(String.valueOf(ended.item()));
    assertThat(repository.reclaimExpired()).isEqualTo(1);
    assertThat(claimOne("w4", LONG_LEASE).attempt()).as("its run never started").isEqualTo(1);
  }

  @Test
  void reclaimExpiredSpreadsReturnedItemsOverTheJitter() {
    int n = 20;
    addItems(n);
    repository.claim("died", n, shortLease());
    advance(shortLease().plusMillis(1));

    // Each item comes back at its own random moment within the hour: not all of them at once.
    assertThat(repository.reclaimExpired(Duration.ofHours(1))).isEqualTo(n);

    assertThat(repository.counts()).isEqualTo(new LeaseCounts(n, 0, 0, 0));
    assertThat(repository.claim("w2", n, LONG_LEASE)).hasSizeLessThan(n);
    assertThatThrownBy(() -> repository.reclaimExpired(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("jitter");
  }

  @Test
  void reclaimExpiredLeavesLiveLeasesAlone() {
    addItems(2);
    repository.claim("w1", 2, LONG_LEASE);

    assertThat(repository.reclaimExpired()).isZero();
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 2, 0, 0));
  }

  /**
   * A renewer and a reaper race: items renewed every quarter lease must never be reclaimed; items
   * renewed only every fifth quarter lapse, are reclaimed, and their next renewal is refused — but
   * never before the end of their last renewed lease by the store's clock.
   */
  @Test
  @Timeout(120)
  void reaperNeverTakesBackAFreshlyRenewedLease() throws Exception {
    int n = 16;
    addItems(n);
    // Two short leases: a renewal is due every half short lease, so a renewer stalled for less
    // than one and a half short leases (a loaded machine) still renews in time.
    Duration lease = shortLease().multipliedBy(2);
    List<Claim<T>> claims = repository.claim("renewer", n, lease);
    assertThat(claims).hasSize(n);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong reclaimed = new AtomicLong();
    AtomicLong reaperRuns = new AtomicLong();
    Thread reaper =
        Thread.ofPlatform()
            .name("kit-reaper")
            .start(
                () -> {
                  while (!stop.get()) {
                    reclaimed.addAndGet(repository.reclaimExpired());
                    reaperRuns.incrementAndGet();
                    LockSupport.parkNanos(1_000_000L); // a reaper a millisecond, not a busy core
                  }
                });
    Map<Integer, Instant> renewedUntil = new HashMap<>();
    Set<Integer> lost = new HashSet<>();
    List<String> violations = new ArrayList<>();
    int sparse = 0;
    for (int i = 0; i < n; i++) {
      renewedUntil.put(i, claims.get(i).leaseUntil());
      sparse += i % 4 == 0 ? 1 : 0;
    }
    try {
      for (int round = 1; round <= 11; round++) {
        for (int i = 0; i < n; i++) {
          boolean isSparse = i % 4 == 0;
          if (lost.contains(i) || (isSparse && round % 5 != 0)) {
            continue;
          }
          try {
            renewedUntil.put(i, repository.renew(claims.get(i), lease).leaseUntil());
          } catch (LeaseLostException e) {
            Instant after = now();
            lost.add(i);
            if (after.isBefore(renewedUntil.get(i))) {
              violations.add(
                  "item " + i + " lost at " + after + ", renewed until " + renewedUntil.get(i));
            }
          }
        }
        advance(lease.dividedBy(4));
      }
      awaitUntil(
          "the reaper to reclaim the sparse items",
          Duration.ofSeconds(30),
          () -> reclaimed.get() >= 4);
    } finally {
      stop.set(true);
      reaper.join();
    }

    assertThat(violations).as("leases taken back before they ended").isEmpty();
    for (int i = 0; i < n; i++) {
      if (i % 4 == 0) {
        assertThat(lost).as("sparsely renewed item %d", i).contains(i);
      } else {
        assertThat(lost).as("item %d, renewed every quarter lease", i).doesNotContain(i);
      }
    }
    assertThat(reclaimed).hasValue(sparse);
    assertThat(reaperRuns.get()).isPositive();
    for (int i = 0; i < n; i++) {
      int index = i;
      if (i % 4 == 0) {
        assertThatThrownBy(() -> repository.complete(claims.get(index)))
            .isInstanceOf(LeaseLostException.class);
      } else {
        repository.complete(claims.get(i));
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Release, give-back, failure

  @Test
  void releaseMakesTheItemAvailableAfterRetryAfter() {
    T item = addItems(1).get(0);
    Claim<T> first = claimOne("w1", LONG_LEASE);

    repository.release(first, shortLease());

    assertThat(repository.claim("w2", 1, LONG_LEASE)).isEmpty();
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(1, 0, 0, 0));
    advance(shortLease().plusMillis(1));
    Claim<T> second = claimOne("w2", LONG_LEASE);
    assertThat(second.item()).isEqualTo(item);
    assertThat(second.attempt()).isEqualTo(2);
    assertThat(second.token()).isGreaterThan(first.token());
  }

  @Test
  void releaseWithoutRetryAfterMakesTheItemAvailableAtOnce() {
    addItems(1);
    repository.release(claimOne("w1", LONG_LEASE), Duration.ZERO);

    assertThat(claimOne("w2", LONG_LEASE).attempt()).isEqualTo(2);
  }

  @Test
  void giveBackDoesNotCountTheAttempt() {
    addItems(1);
    Claim<T> first = claimOne("w1", LONG_LEASE);

    repository.giveBack(first);

    Claim<T> second = claimOne("w2", LONG_LEASE);
    assertThat(second.attempt()).isEqualTo(1);
    assertThat(second.token()).isGreaterThan(first.token());
  }

  @Test
  void failedItemsAreNeverClaimedAgain() {
    addItems(1);
    repository.fail(claimOne("w1", LONG_LEASE), "x".repeat(10_000));

    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 0, 1));
    assertThat(repository.claim("w2", 10, LONG_LEASE)).isEmpty();
    assertThat(repository.reclaimExpired()).isZero();
  }

  @Test
  void countsFollowTheStates() {
    addItems(5);
    List<Claim<T>> claims = repository.claim("w1", 4, LONG_LEASE);
    repository.complete(claims.get(0));
    repository.fail(claims.get(1), "no");
    repository.release(claims.get(2), Duration.ZERO);

    LeaseCounts counts = repository.counts();

    assertThat(counts).isEqualTo(new LeaseCounts(2, 1, 1, 1));
    assertThat(counts.total()).isEqualTo(5);
    assertThat(counts.settled()).isFalse();
  }

  // ---------------------------------------------------------------------------------------------
  // Bad arguments

  @Test
  void claimRejectsBadArguments() {
    addItems(1);
    assertThatThrownBy(() -> repository.claim("w1", 0, LONG_LEASE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("limit")
        .hasMessageContaining("0");
    assertThatThrownBy(() -> repository.claim("w1", -3, LONG_LEASE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("limit");
    assertThatThrownBy(() -> repository.claim("w1", 1, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lease");
    assertThatThrownBy(() -> repository.claim("w1", 1, Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lease");
    assertThatThrownBy(() -> repository.claim(" ", 1, LONG_LEASE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workerId");
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(1, 0, 0, 0));
  }

  @Test
  void fencedCallsRejectBadDurations() {
    addItems(1);
    Claim<T> claim = claimOne("w1", LONG_LEASE);

    assertThatThrownBy(() -> repository.renew(claim, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lease");
    assertThatThrownBy(() -> repository.renewAll(List.of(claim), Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lease");
    assertThatThrownBy(() -> repository.release(claim, Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("retryAfter");
    repository.complete(claim);
  }

  @Test
  void fencedCallsRejectUnknownClaims() {
    T item = addItems(1).get(0);
    Claim<T> real = claimOne("w1", LONG_LEASE);
    Instant now = real.claimedAt();
    Claim<T> unknownItem = new Claim<>(unknownItem(), "w1", 1, now, now.plusSeconds(60), 1);
    Claim<T> neverIssued = new Claim<>(item, "w1", real.token() + 100, now, now.plusSeconds(60), 1);

    for (Claim<T> bad : List.of(unknownItem, neverIssued)) {
      List<Consumer<Claim<T>>> calls =
          List.of(
              c -> repository.complete(c),
              c -> repository.release(c, Duration.ZERO),
              c -> repository.giveBack(c),
              c -> repository.fail(c, "x"),
              c -> repository.renew(c, LONG_LEASE),
              c -> repository.markStarted(c));
      for (Consumer<Claim<T>> call : calls) {
        assertThatThrownBy(() -> call.accept(bad))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("unknown claim")
            .hasMessageContaining(String.valueOf(bad.item()));
      }
    }
    assertThat(repository.completeAll(List.of(unknownItem, real)).leaseLost())
        .containsExactly(unknownItem);
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 1, 0));
  }

  // ---------------------------------------------------------------------------------------------
  // ClaimWorkers on this store

  private ClaimWorkersConfig.Builder fastWorkers() {
    return ClaimWorkersConfig.builder()
        .pollInterval(Duration.ofMillis(5))
        .maxPollInterval(Duration.ofMillis(50))
        .retryDelay(Duration.ZERO, Duration.ZERO)
        .shutdownTimeout(Duration.ofSeconds(10));
  }

  @Test
  @Timeout(120)
  void workersProcessEveryItemExactlyOnce() {
    List<T> items = addItems(300);
    Map<T, Integer> handled = new ConcurrentHashMap<>();
    ClaimWorkers<T> workers =
        ClaimWorkers.builder(
                repository,
                (Claim<T> claim) -> {
                  handled.merge(claim.item(), 1, Integer::sum);
                })
            .config(fastWorkers().concurrency(4).batchSize(7).build())
            .build();
    workers.start();
    try {
      awaitUntil(
          "300 items completed", Duration.ofSeconds(60), () -> workers.status().completed() == 300);
    } finally {
      assertThat(workers.stop()).isTrue();
    }

    assertThat(handled.keySet()).containsExactlyInAnyOrderElementsOf(items);
    assertThat(handled.values()).allMatch(c -> c == 1);
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 300, 0));
    assertThat(workers.status().claimed()).isEqualTo(300);
  }

  @Test
  @Timeout(120)
  void workersWithBatchedCompletionProcessEveryItemExactlyOnce() {
    List<T> items = addItems(300);
    Map<T, Integer> handled = new ConcurrentHashMap<>();
    ClaimWorkers<T> workers =
        ClaimWorkers.builder(
                repository,
                (Claim<T> claim) -> {
                  handled.merge(claim.item(), 1, Integer::sum);
                })
            .config(
                fastWorkers()
                    .concurrency(4)
                    .batchSize(10)
                    .completionBatching(25, Duration.ofMillis(5))
                    .build())
            .build();
    workers.start();
    try {
      awaitUntil(
          "300 items completed", Duration.ofSeconds(60), () -> workers.status().completed() == 300);
    } finally {
      assertThat(workers.stop()).isTrue();
    }

    assertThat(handled.keySet()).containsExactlyInAnyOrderElementsOf(items);
    assertThat(handled.values()).allMatch(c -> c == 1);
    assertThat(repository.counts()).isEqualTo(new LeaseCounts(0, 0, 300, 0));
  }

  @Test
  @Timeout(120)
  void workersFailAnItemAfterMaxAttempts() {
    T poison = addItems(1).get(0);
    List<T> healthy = addItems(5);
    Map<T, Integer> calls = new ConcurrentHashMap<>();
    ClaimWorkers<T> workers =
        ClaimWorkers.builder(
                repository,
                (Claim<T> claim) -> {
                  calls.merge(claim.item(), 1, Integer::sum);
                  if (claim.item().equals(poison)) {
                    throw new IllegalStateException("poison");
                  }
                })
            .config(fastWorkers().concurrency(2).batchSize(2).maxAttempts(3).build())
            .build();
    workers.start();
    try {
      awaitUntil(
          "5 items completed and 1 failed",
          Duration.ofSeconds(60),
          () -> repository.counts().equals(new LeaseCounts(0, 0, 5, 1)));
    } finally {
      assertThat(workers.stop()).isTrue();
    }

    assertThat(calls.get(poison)).isEqualTo(3);
    assertThat(healthy).allSatisfy(item -> assertThat(calls.get(item)).isEqualTo(1));
    assertThat(workers.status().failed()).isEqualTo(1);
    assertThat(workers.status().retried()).isEqualTo(2);
    assertThat(workers.status().completed()).isEqualTo(5);
  }
}
