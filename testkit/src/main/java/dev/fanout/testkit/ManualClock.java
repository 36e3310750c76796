package dev.fanout.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link Clock} (and so an {@link java.time.InstantSource}) that stands still until the test
 * moves it: the wall clock to hand to a {@code ClaimLeaseRepository}, a {@code ClaimWorkers} or any
 * class that takes a {@code Clock} or {@code InstantSource}, so a test can let a lease expire
 * without waiting for it.
 *
 * {@snippet :
 * ManualClock clock = ManualClock.at(Instant.parse("2025-11-20T17:07:36Z"));
 * InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create(clock);
 * repository.add("alice");
 * repository.claim("worker-1", 10, Duration.ofSeconds(30));
 * clock.advance(Duration.ofSeconds(31)); // the lease has ended, and no test slept
 * assertThat(repository.reclaimExpired()).isEqualTo(1);
 * }
 *
 * <p>It never goes backwards. Thread-safe: readers on any thread see each {@link #advance} once it
 * has returned. Clocks made by {@link #withZone} share the instant of the one they came from.
 */
public final class ManualClock extends Clock {
  private final AtomicReference<Instant> now;
  private final ZoneId zone;

  private ManualClock(AtomicReference<Instant> now, ZoneId zone) {
    this.now = now;
    this.zone = zone;
  }

  /** A clock standing at {@code start}, in UTC. */
  public static ManualClock at(Instant start) {
    return at(start, ZoneOffset.UTC);
  }

  /** A clock standing at {@code start}, in {@code zone}. */
  public static ManualClock at(Instant start, ZoneId zone) {
    Objects.requireNonNull(start, "start");
    Objects.requireNonNull(zone, "zone");
    return new ManualClock(new AtomicReference<>(start), zone);
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  /** A clock in {@code zone} that reads, and moves with, this one. */
  @Override
  public ManualClock withZone(ZoneId zone) {
    Objects.requireNonNull(zone, "zone");
    return zone.equals(this.zone) ? this : new ManualClock(now, zone);
  }

  /**
   * Moves the clock forward by {@code duration} and returns the new instant.
   *
   * @throws IllegalArgumentException if {@code duration} is negative
   */
  public Instant advance(Duration duration) {
    Objects.requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      throw new IllegalArgumentException(
          "duration must not be negative (time does not go backwards), was " + duration);
    }
    return now.updateAndGet(t -> t.plus(duration));
  }

  @Override
  public String toString() {
    return "ManualClock[" + now.get() + ", " + zone + "]";
  }
}
