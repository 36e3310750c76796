package dev.fanout.lease;

import static java.time.Duration.ZERO;
import static java.time.Duration.ofMillis;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fanout.time.JumpingClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * Claim workers on a store whose clock jumps forward (a paused JVM, a stepped clock): leases end
 * early by that clock, renewals are refused, the reaper takes items back while their handlers
 * still run. What must hold whatever the clock does, read from the store's own answers:
 *
 * <ul>
 *   <li>no item is ever held under two live claims: each new claim of an item (a strictly greater
 *       token) starts only after its previous claim was given up by its owner, or at or after that
 *       claim's lease end as last renewed — so a lease is never reclaimed while the heartbeat's
 *       renewal kept it live by the store's clock;
 *   <li>every item ends exactly once, completed or failed, by its latest claim; none is lost;
 *   <li>the runners' counters agree with the store.
 * </ul>
 */
class ClaimWorkersJumpingClockPropertiesTest {
  /** What a run went through: proof that the clock was hostile. */
  record Hostility(long renewals, long reclaimed, long leaseLost, int jumps) {}

  @Test
  void aJumpingClockReallyEndsLeasesThatTheHeartbeatRenewsAndTheInvariantsStillHold() {
    Hostility seen = run(40, 2, 3, 3, 100, 15, 4, true, 42L);
    assertThat(seen.jumps()).as("clock jumps").isPositive();
    assertThat(seen.renewals()).as("renewals applied").isPositive();
    assertThat(seen.reclaimed()).as("leases reclaimed").isPositive();
    assertThat(seen.leaseLost()).as("claims counted lease lost").isPositive();
  }

  /** Item and token: one claim. */
  record ClaimKey(int item, long token) {}

  /** A store that remembers every claim it issued and every change it applied. */
  static final class HistoryRepository extends ForwardingRepository<Integer> {
    final ConcurrentLinkedQueue<Claim<Integer>> claims = new ConcurrentLinkedQueue<>();
    final Map<ClaimKey, Instant> leaseUntil = new ConcurrentHashMap<>();
    final Set<ClaimKey> givenUp = ConcurrentHashMap.newKeySet();
    final Map<Integer, List<String>> endings = new ConcurrentHashMap<>();
    final AtomicLong renewals = new AtomicLong();

    HistoryRepository(ClaimLeaseRepository<Integer> delegate) {
      super(delegate);
    }

    private static ClaimKey key(Claim<Integer> c) {
      return new ClaimKey(c.item(), c.token());
    }

    private void leased(Claim<Integer> c) {
      leaseUntil.merge(key(c), c.leaseUntil(), (a, b) -> a.isAfter(b) ? a : b);
    }

    @Override
    public List<Claim<Integer>> claim(String workerId, int limit, Duration lease) {
      List<Claim<Integer>> got = super.claim(workerId, limit, lease);
      for (Claim<Integer> c : got) {
        claims.add(c);
        leased(c);
      }
      return got;
    }

    @Override
    public Claim<Integer> renew(Claim<Integer> claim, Duration lease) {
      Claim<Integer> renewed = super.renew(claim, lease);
      renewals.incrementAndGet();
      leased(renewed);
      return renewed;
    }

    @Override
    public BatchOutcome<Integer> renewAll(Collection<Claim<Integer>> batch, Duration lease) {
      BatchOutcome<Integer> outcome = super.renewAll(batch, lease);
      renewals.addAndGet(outcome.applied().size());
      outcome.applied().forEach(this::leased);
      return outcome;
    }

    @Override
    public void complete(Claim<Integer> claim) {
      super.complete(claim);
      record(claim, "completed");
    }

    @Override
    public BatchOutcome<Integer> completeAll(Collection<Claim<Integer>> batch) {
      BatchOutcome<Integer> outcome = super.completeAll(batch);
      outcome.applied().forEach(c -> record(c, "completed"));
      return outcome;
    }

    @Override
    public void fail(Claim<Integer> claim, String reason) {
      super.fail(claim, reason);
      record(claim, "failed");
    }

    @Override
    public void release(Claim<Integer> claim, Duration retryAfter) {
      super.release(claim, retryAfter);
      givenUp.add(key(claim));
    }

    @Override
    public void giveBack(Claim<Integer> claim) {
      super.giveBack(claim);
      givenUp.add(key(claim));
    }

    private void record(Claim<Integer> claim, String how) {
      endings.computeIfAbsent(claim.item(), i -> new CopyOnWriteArrayList<>())
          .add(how + "#" + claim.token());
    }
  }

  private static boolean poison(int item) {
    return item % 7 == 3;
  }

  /** Works for {@code nanos} of real time, or until interrupted (its lease was lost). */
  private static void work(long nanos) throws InterruptedException {
    long end = System.nanoTime() + nanos;
    for (long left = nanos; left > 0; left = end - System.nanoTime()) {
      LockSupport.parkNanos(left);
      if (Thread.interrupted()) {
        throw new InterruptedException("lease lost");
      }
    }
  }

  @Property(tries = 30)
  void noItemIsHeldTwiceAndEveryItemEndsExactlyOnceOnAJumpingStoreClock(
      @ForAll @IntRange(min = 10, max = 40) int items,
      @ForAll @IntRange(min = 1, max = 2) int runners,
      @ForAll @IntRange(min = 1, max = 3) int concurrency,
      @ForAll @IntRange(min = 1, max = 4) int batchSize,
      @ForAll @IntRange(min = 40, max = 120) int leaseMs,
      @ForAll @IntRange(min = 2, max = 30) int jumpsPerMille,
      @ForAll @IntRange(min = 2, max = 5) int maxAttempts,
      @ForAll boolean batchCompletions,
      @ForAll long seed) {
    run(items, runners, concurrency, batchSize, leaseMs, jumpsPerMille, maxAttempts, batchCompletions, seed);
  }

  private static Hostility run(
      int items,
      int runners,
      int concurrency,
      int batchSize,
      int leaseMs,
      int jumpsPerMille,
      int maxAttempts,
      boolean batchCompletions,
      long seed) {
    JumpingClock clock = JumpingClock.create(seed, jumpsPerMille / 1000.0, ofMillis(3L * leaseMs));
    HistoryRepository repository =
        new HistoryRepository(InMemoryClaimLeaseRepository.create(clock, new SplittableRandom(seed)));
    InMemoryClaimLeaseRepository<Integer> store = (InMemoryClaimLeaseRepository<Integer>) repository.delegate;
    store.addAll(IntStream.range(0, items).boxed().toList());
    long leaseNanos = ofMillis(leaseMs).toNanos();
    ClaimHandler<Integer> handler =
        claim -> {
          if (poison(claim.item())) {
            throw new IllegalStateException("poison " + claim.item());
          }
          SplittableRandom random = new SplittableRandom(seed ^ (claim.item() * 1_000_003L + claim.token()));
          if (random.nextInt(3) == 0) {
            work(random.nextLong(leaseNanos / 2)); // long enough for heartbeats to renew it
          }
          if (random.nextInt(5) == 0) {
            throw new IllegalStateException("flaky " + claim.item());
          }
        };
    ClaimWorkersConfig config =
        ClaimWorkersConfig.builder()
            .concurrency(concurrency)
            .batchSize(batchSize)
            .pollInterval(ofMillis(1))
            .maxPollInterval(ofMillis(5))
            .leaseDuration(ofMillis(leaseMs))
            .heartbeatInterval(ofMillis(leaseMs / 4))
            .reaperInterval(ofMillis(5))
            .reclaimJitter(ofMillis(2))
            .maxAttempts(maxAttempts)
            .retryDelay(ZERO, ZERO)
            .completionBatching(batchCompletions ? 8 : 1, ofMillis(2))
            .shutdownTimeout(ofSeconds(5))
            .build();
    List<ClaimWorkers<Integer>> workers = new ArrayList<>();
    for (int r = 0; r < runners; r++) {
      workers.add(ClaimWorkers.builder(repository, handler).name("jumping-" + r).config(config).build());
    }
    workers.forEach(ClaimWorkers::start);
    try {
      await()
          .atMost(ofSeconds(30))
          .pollInterval(ofMillis(5))
          .until(() -> store.counts().settled() && workers.stream().allMatch(w -> w.status().held() == 0));
    } finally {
      workers.forEach(w -> assertThat(w.stop()).as("%s stopped cleanly", w.name()).isTrue());
    }

    // Every item ended exactly once, by its latest claim; none is left or lost.
    LeaseCounts counts = store.counts();
    assertThat(counts.pending()).isZero();
    assertThat(counts.claimed()).isZero();
    assertThat(counts.completed() + counts.failed()).isEqualTo(items);
    Map<Integer, List<Claim<Integer>>> byItem = new ConcurrentHashMap<>();
    for (Claim<Integer> c : repository.claims) {
      byItem.computeIfAbsent(c.item(), i -> new ArrayList<>()).add(c);
    }
    for (int item = 0; item < items; item++) {
      List<Claim<Integer>> mine = byItem.getOrDefault(item, List.of());
      assertThat(mine).as("item %d was claimed", item).isNotEmpty();
      mine.sort(Comparator.comparingLong(Claim::token));
      for (int i = 0; i < mine.size(); i++) {
        assertThat(mine.get(i).token()).as("item %d claim %d token", item, i).isEqualTo(i + 1L);
      }
      for (int i = 1; i < mine.size(); i++) {
        Claim<Integer> before = mine.get(i - 1);
        Claim<Integer> after = mine.get(i);
        assertThat(after.claimedAt()).as("item %d claims in token order", item).isAfterOrEqualTo(before.claimedAt());
        if (!repository.givenUp.contains(new ClaimKey(item, before.token()))) {
          // Taken back by the reaper: only once the lease, as last renewed, had ended.
          Instant end = repository.leaseUntil.get(new ClaimKey(item, before.token()));
          assertThat(after.claimedAt())
              .as(
                  "item %d: token %d claimed by %s while token %d of %s was leased until %s",
                  item, after.token(), after.workerId(), before.token(), before.workerId(), end)
              .isAfterOrEqualTo(end);
        }
      }
      long latest = mine.get(mine.size() - 1).token();
      List<String> endings = repository.endings.getOrDefault(item, List.of());
      assertThat(endings).as("item %d ends exactly once", item).hasSize(1);
      assertThat(endings.get(0)).as("item %d ends by its latest claim", item).endsWith("#" + latest);
      LeaseState state = store.state(item).orElseThrow();
      assertThat(state).isIn(LeaseState.COMPLETED, LeaseState.FAILED);
      assertThat(endings.get(0)).startsWith(state == LeaseState.COMPLETED ? "completed" : "failed");
      if (poison(item)) {
        assertThat(state).as("poison item %d", item).isEqualTo(LeaseState.FAILED);
      }
    }
    // The runners' own accounts agree with the store.
    long completed = workers.stream().mapToLong(w -> w.status().completed()).sum();
    long failed = workers.stream().mapToLong(w -> w.status().failed()).sum();
    long claimed = workers.stream().mapToLong(w -> w.status().claimed()).sum();
    assertThat(completed).isEqualTo(counts.completed());
    assertThat(failed).isEqualTo(counts.failed());
    assertThat(claimed).isEqualTo(repository.claims.size());
    assertThat(workers).allSatisfy(w -> assertThat(w.status().accountedFor()).isTrue());

    return new Hostility(
        repository.renewals.get(),
        workers.stream().mapToLong(w -> w.status().reclaimed()).sum(),
        workers.stream().mapToLong(w -> w.status().leaseLost()).sum(),
        clock.jumps());
  }
}
