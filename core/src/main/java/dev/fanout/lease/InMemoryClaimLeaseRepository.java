package dev.fanout.lease;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * A {@link ClaimLeaseRepository} in memory, for work shared by the threads of one process, and
 * for tests. It keeps the full semantics — atomic claims, fencing tokens, leases ending by its
 * clock — so code written against it behaves the same on {@code JdbcClaimLeaseRepository}.
 *
 * {@snippet :
 * InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
 * repository.addAll(List.of("alice", "bob", "carol"));
 * try (ClaimWorkers<String> workers =
 *     ClaimWorkers.builder(repository, claim -> check(claim.item())).build()) {
 *   workers.start();
 *   // ...
 * }
 * }
 *
 * <p>Time is the given {@link InstantSource}: a test passes a clock it moves by hand and sees
 * leases end without sleeping. The jitter of {@link #reclaimExpired(Duration)} is drawn from the
 * given {@link RandomGenerator} (a seeded one makes it repeatable). Items are told apart by {@code
 * equals}; completed and failed items stay in memory, so that late calls on them still report
 * {@link LeaseLostException}. Each item remembers how its latest claim ended, so that the same
 * claim settling it the same way again — a retry — is recognised as done (see {@link
 * ClaimLeaseRepository}, "Settling twice").
 *
 * <p>Thread-safe: one {@link ReentrantLock} guards all state and every call holds it briefly,
 * never while calling out. Actions before a call happen-before the effects of later calls that
 * observe it.
 *
 * @param <T> the item type
 */
public final class InMemoryClaimLeaseRepository<T> implements ClaimLeaseRepository<T> {

  private final InstantSource clock;
  private final @Nullable RandomGenerator random;
  private final ReentrantLock lock = new ReentrantLock();
  // All below guarded by lock.
  private final Map<T, Entry<T>> entries = new HashMap<>();
  private final TreeSet<Entry<T>> pending =
      new TreeSet<>(
          Comparator.<Entry<T>, Instant>comparing(e -> e.availableAt)
              .thenComparingLong(e -> e.sequence));
  private final Set<Entry<T>> claimed = new LinkedHashSet<>();
  private long sequence;
  private long completed;
  private long failed;

  private InMemoryClaimLeaseRepository(InstantSource clock, @Nullable RandomGenerator random) {
    this.clock = Objects.requireNonNull(clock, "clock must not be null");
    this.random = random;
  }

  /** An empty repository on the system clock. */
  public static <T> InMemoryClaimLeaseRepository<T> create() {
    return new InMemoryClaimLeaseRepository<>(InstantSource.system(), null);
  }

  /** An empty repository whose leases end by {@code clock}. */
  public static <T> InMemoryClaimLeaseRepository<T> create(InstantSource clock) {
    return new InMemoryClaimLeaseRepository<>(clock, null);
  }

  /**
   * An empty repository whose leases end by {@code clock} and whose reclaim jitter is drawn from
   * {@code random} (used under the repository's lock, so any generator will do).
   */
  public static <T> InMemoryClaimLeaseRepository<T> create(
      InstantSource clock, RandomGenerator random) {
    return new InMemoryClaimLeaseRepository<>(
        clock, Objects.requireNonNull(random, "random must not be null"));
  }

  /**
   * Adds {@code item} as PENDING, available at once.
   *
   * @return false, changing nothing, if the repository already holds an equal item in any state
   */
  public boolean add(T item) {
    Objects.requireNonNull(item, "item must not be null");
    lock.lock();
    try {
      if (entries.containsKey(item)) {
        return false;
      }
      Entry<T> entry = new Entry<>(item);
      entry.availableAt = clock.instant();
      entry.sequence = ++sequence;
      entries.put(item, entry);
      pending.add(entry);
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Adds each item as by {@link #add(Object)}, in iteration order.
   *
   * @return how many were new
   */
  public int addAll(Collection<? extends T> items) {
    int added = 0;
    for (T item : items) {
      if (add(item)) {
        added++;
      }
    }
    return added;
  }

  /** The item's state now, empty if the repository never held it. */
  public Optional<LeaseState> state(T item) {
    lock.lock();
    try {
      Entry<T> entry = entries.get(item);
      return entry == null ? Optional.empty() : Optional.of(entry.state);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public List<Claim<T>> claim(String workerId, int limit, Duration lease) {
    requireWorkerId(workerId);
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, was " + limit);
    }
    requirePositive("lease", lease);
    lock.lock();
    try {
      Instant now = clock.instant();
      Instant until = now.plus(lease);
      List<Claim<T>> claims = new ArrayList<>(Math.min(limit, pending.size()));
      Iterator<Entry<T>> it = pending.iterator();
      while (claims.size() < limit && it.hasNext()) {
        Entry<T> entry = it.next();
        if (entry.availableAt.isAfter(now)) {
          break;
        }
        it.remove();
        entry.state = LeaseState.CLAIMED;
        entry.token++;
        entry.attempts++;
        entry.started = false;
        entry.owner = workerId;
        entry.ending = null;
        entry.leaseUntil = until;
        claimed.add(entry);
        claims.add(new Claim<>(entry.item, workerId, entry.token, now, until, entry.attempts));
      }
      return claims;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Claim<T> renew(Claim<T> claim, Duration lease) {
    requirePositive("lease", lease);
    lock.lock();
    try {
      Entry<T> entry = current(claim);
      Instant now = clock.instant();
      Instant until = Objects.requireNonNull(entry.leaseUntil);
      if (!now.isBefore(until)) {
        throw new LeaseLostException(claim, "its lease ended at " + until + " and was not renewed");
      }
      entry.leaseUntil = now.plus(lease);
      return claim.withLeaseUntil(entry.leaseUntil);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void markStarted(Claim<T> claim) {
    lock.lock();
    try {
      Entry<T> entry = current(claim);
      Instant until = Objects.requireNonNull(entry.leaseUntil);
      if (!clock.instant().isBefore(until)) {
        throw new LeaseLostException(claim, "its lease ended at " + until + " and was not renewed");
      }
      entry.started = true;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void complete(Claim<T> claim) {
    lock.lock();
    try {
      Entry<T> entry = toSettle(claim, Ending.COMPLETED);
      if (entry == null) {
        return;
      }
      claimed.remove(entry);
      entry.state = LeaseState.COMPLETED;
      entry.ending = Ending.COMPLETED;
      entry.leaseUntil = null;
      completed++;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void release(Claim<T> claim, Duration retryAfter) {
    Objects.requireNonNull(retryAfter, "retryAfter must not be null");
    if (retryAfter.isNegative()) {
      throw new IllegalArgumentException("retryAfter must not be negative, was " + retryAfter);
    }
    lock.lock();
    try {
      Entry<T> entry = toSettle(claim, Ending.RELEASED);
      if (entry != null) {
        toPending(entry, clock.instant().plus(retryAfter), Ending.RELEASED);
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void giveBack(Claim<T> claim) {
    lock.lock();
    try {
      Entry<T> entry = toSettle(claim, Ending.GIVEN_BACK);
      if (entry == null) {
        return;
      }
      entry.attempts--;
      toPending(entry, clock.instant(), Ending.GIVEN_BACK);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void fail(Claim<T> claim, String reason) {
    Objects.requireNonNull(reason, "reason must not be null");
    lock.lock();
    try {
      Entry<T> entry = toSettle(claim, Ending.FAILED);
      if (entry == null) {
        return;
      }
      claimed.remove(entry);
      entry.state = LeaseState.FAILED;
      entry.ending = Ending.FAILED;
      entry.leaseUntil = null;
      entry.lastError = reason;
      failed++;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public int reclaimExpired(Duration jitter) {
    Objects.requireNonNull(jitter, "jitter must not be null");
    if (jitter.isNegative()) {
      throw new IllegalArgumentException("jitter must not be negative, was " + jitter);
    }
    long jitterNanos = jitter.toNanos();
    lock.lock();
    try {
      Instant now = clock.instant();
      List<Entry<T>> expired = new ArrayList<>();
      for (Entry<T> entry : claimed) {
        if (!now.isBefore(Objects.requireNonNull(entry.leaseUntil))) {
          expired.add(entry);
        }
      }
      for (Entry<T> entry : expired) {
        if (!entry.started) {
          entry.attempts--; // its run never started: the claim was not an attempt
        }
        toPending(
            entry,
            jitterNanos == 0 ? now : now.plusNanos(nextJitter(jitterNanos)),
            Ending.RECLAIMED);
      }
      return expired.size();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public LeaseCounts counts() {
    lock.lock();
    try {
      return new LeaseCounts(pending.size(), claimed.size(), completed, failed);
    } finally {
      lock.unlock();
    }
  }

  /** The last reason given to {@link #fail fail} for this item, if it failed. */
  public Optional<String> failureReason(T item) {
    lock.lock();
    try {
      Entry<T> entry = entries.get(item);
      return entry == null ? Optional.empty() : Optional.ofNullable(entry.lastError);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    return "InMemoryClaimLeaseRepository" + counts();
  }

  // Caller holds lock.
  private long nextJitter(long boundNanos) {
    RandomGenerator r = random != null ? random : ThreadLocalRandom.current();
    return r.nextLong(boundNanos + 1);
  }

  // Caller holds lock.
  private void toPending(Entry<T> entry, Instant availableAt, Ending ending) {
    claimed.remove(entry);
    entry.state = LeaseState.PENDING;
    entry.ending = ending;
    entry.leaseUntil = null;
    entry.availableAt = availableAt;
    entry.sequence = ++sequence;
    pending.add(entry);
  }

  /**
   * Caller holds lock. The entry to settle {@code how}, or null if this very claim already settled
   * it that way (a retry after a lost reply: nothing to do); otherwise why the claim is not current.
   */
  private @Nullable Entry<T> toSettle(Claim<T> claim, Ending how) {
    Entry<T> entry = known(claim);
    if (entry.state != LeaseState.CLAIMED
        && entry.token == claim.token()
        && entry.ending == how
        && claim.workerId().equals(entry.owner)) {
      return null;
    }
    return current(claim);
  }

  // Caller holds lock. The entry the claim is current for, or why it is not.
  private Entry<T> current(Claim<T> claim) {
    Entry<T> entry = known(claim);
    if (entry.state != LeaseState.CLAIMED || entry.token != claim.token()) {
      throw new LeaseLostException(claim, describe(entry, claim));
    }
    return entry;
  }

  // Caller holds lock. The entry of a claim this repository issued.
  private Entry<T> known(Claim<T> claim) {
    Objects.requireNonNull(claim, "claim must not be null");
    Entry<T> entry = entries.get(claim.item());
    if (entry == null) {
      throw new IllegalArgumentException(
          "unknown claim: this repository never held item " + claim.item());
    }
    if (claim.token() > entry.token) {
      throw new IllegalArgumentException(
          "unknown claim: token "
              + claim.token()
              + " was never issued for item "
              + claim.item()
              + " (the latest is "
              + entry.token
              + ")");
    }
    return entry;
  }

  private static String describe(Entry<?> entry, Claim<?> claim) {
    if (entry.token != claim.token()) {
      return entry.state == LeaseState.CLAIMED
          ? "now claimed by " + entry.owner + " with token " + entry.token
          : "it was claimed again since (token " + entry.token + ") and is now " + entry.state;
    }
    return switch (entry.state) {
      case CLAIMED -> "now claimed by " + entry.owner + " with token " + entry.token;
      case PENDING ->
          entry.ending == Ending.RECLAIMED
              ? "it is pending again (reclaimed after its lease ended)"
              : "it is pending again (" + entry.ending + " by this claim)";
      case COMPLETED -> "it is completed";
      case FAILED -> "it has failed";
    };
  }

  private static void requireWorkerId(String workerId) {
    Objects.requireNonNull(workerId, "workerId must not be null");
    if (workerId.isBlank()) {
      throw new IllegalArgumentException("workerId must not be blank, was \"" + workerId + "\"");
    }
  }

  private static void requirePositive(String field, Duration value) {
    Objects.requireNonNull(value, field + " must not be null");
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(field + " must be positive, was " + value);
    }
  }

  /** How an entry's latest claim ended. */
  private enum Ending {
    COMPLETED("completed"),
    FAILED("failed"),
    RELEASED("released"),
    GIVEN_BACK("given back"),
    RECLAIMED("reclaimed");

    private final String words;

    Ending(String words) {
      this.words = words;
    }

    @Override
    public String toString() {
      return words;
    }
  }

  private static final class Entry<T> {
    final T item;
    LeaseState state = LeaseState.PENDING;
    long token;
    int attempts;
    boolean started;
    @Nullable String owner;
    /** How the claim with {@link #token} ended; null while it holds (or before any claim). */
    @Nullable Ending ending;
    @Nullable Instant leaseUntil;
    Instant availableAt = Instant.EPOCH;
    long sequence;
    @Nullable String lastError;

    Entry(T item) {
      this.item = item;
    }
  }
}
