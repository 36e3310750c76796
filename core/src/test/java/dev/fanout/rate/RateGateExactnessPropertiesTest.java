package dev.fanout.rate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.time.FakeTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Rate exactness with an injected clock, never sleeping: for random acquisition schedules no
 * window holds more than {@code burst + rate * t} permits, and every decision matches a plain
 * token-bucket model (so refusals take nothing and waits are as short as the bound allows).
 */
class RateGateExactnessPropertiesTest {

  enum Kind {
    ACQUIRE,
    TRY_NOW,
    TRY_WITHIN
  }

  /** One step of a schedule: let time pass, then try to pass the gate. */
  record Step(double gapInIntervals, Kind kind, double timeoutInIntervals) {}

  @Provide
  Arbitrary<Step> steps() {
    return Combinators.combine(
            Arbitraries.oneOf(
                Arbitraries.just(0.0),
                Arbitraries.doubles().between(0, 1),
                Arbitraries.doubles().between(0, 5 * 1.0)),
            Arbitraries.of(Kind.class),
            Arbitraries.doubles().between(0, 4))
        .as(Step::new);
  }

  @Provide
  Arbitrary<Double> rates() {
    return Arbitraries.oneOf(
        Arbitraries.doubles().between(0.01, 10),
        Arbitraries.doubles().between(10, 10_000),
        Arbitraries.of(1.0, 3.0, 7.0, 500.0, 1e6, 3e8));
  }

  @Property(tries = 500)
  void singleThreadedSchedulesMatchTheModelAndStayWithinTheBound(
      @ForAll("rates") double rate,
      @ForAll @IntRange(min = 1, max = 20) int burst,
      @ForAll @Size(min = 1, max = 300) List<@net.jqwik.api.From("steps") Step> schedule)
      throws InterruptedException {
    FakeTime time = FakeTime.autoAdvancing();
    TokenBucketGate gate = gate(time, rate, burst);
    long interval = RateGate.Limit.intervalNanos(rate);
    assertThat(new java.math.BigDecimal(rate).multiply(java.math.BigDecimal.valueOf(interval)))
        .as("interval * rate >= 1e9 exactly")
        .isGreaterThanOrEqualTo(java.math.BigDecimal.valueOf(1_000_000_000L));
    assertThat(interval).isLessThanOrEqualTo((long) Math.ceil(1e9 / rate) + 1);

    // The model: credit in nanoseconds, capped at burst * interval; a permit costs one interval
    // and waits while the credit is negative.
    long credit = burst * interval;
    long last = time.read();
    List<Long> grants = new ArrayList<>();
    for (Step step : schedule) {
      time.advance((long) (step.gapInIntervals() * interval));
      long now = time.read();
      credit = Math.min(burst * interval, credit + (now - last));
      last = now;
      long wait = Math.max(0, interval - credit);
      switch (step.kind()) {
        case ACQUIRE -> {
          long grant = gate.acquireAt(Long.MAX_VALUE);
          assertThat(grant).isEqualTo(now + wait);
          grants.add(grant);
          credit -= interval;
        }
        case TRY_NOW -> {
          boolean granted = gate.tryAcquire();
          assertThat(granted).isEqualTo(wait == 0);
          if (granted) {
            grants.add(now);
            credit -= interval;
          }
        }
        case TRY_WITHIN -> {
          long timeout = (long) (step.timeoutInIntervals() * interval);
          long grant = gate.acquireAt(timeout);
          if (wait <= timeout) {
            assertThat(grant).isEqualTo(now + wait);
            grants.add(grant);
            credit -= interval;
          } else {
            assertThat(grant).isEqualTo(TokenBucketGate.REFUSED);
          }
        }
      }
      // After a wait the clock stands at the grant: move the model there too.
      long after = time.read();
      credit = Math.min(burst * interval, credit + (after - last));
      last = after;
    }
    Windows.assertWithinBound(grants.stream().mapToLong(Long::longValue).toArray(), rate, burst);
  }

  @Property(tries = 60)
  void concurrentSchedulesStayWithinTheBound(
      @ForAll @DoubleRange(min = 1, max = 5000) double rate,
      @ForAll @IntRange(min = 1, max = 10) int burst,
      @ForAll @IntRange(min = 2, max = 8) int threads,
      @ForAll long seed)
      throws Exception {
    // A shared auto-advancing clock: every waiter moves time for everyone, and threads also move
    // it themselves between acquisitions, so reservations interleave with stale and fresh clocks.
    FakeTime time = FakeTime.autoAdvancing();
    TokenBucketGate gate = gate(time, rate, burst);
    long interval = RateGate.Limit.intervalNanos(rate);
    long[] grants =
        ConcurrentCallers.acquire(
            gate,
            threads,
            60,
            seed,
            interval,
            random -> {
              if (random.nextInt(4) == 0) {
                time.advance(random.nextLong(2 * interval + 1));
              }
            },
            at -> {});
    assertThat(grants).isNotEmpty();
    Windows.assertWithinBound(grants, rate, burst);
  }

  private static TokenBucketGate gate(FakeTime time, double rate, int burst) {
    return (TokenBucketGate)
        RateGate.builder().perSecond(rate, burst).ticker(time).sleeper(time).build();
  }

  @Property(tries = 100)
  void spacingIsBurstOne(
      @ForAll @IntRange(min = 1, max = 2_000_000) int intervalMicros,
      @ForAll @Size(min = 1, max = 100) List<@IntRange(min = 0, max = 3000) Integer> gapsPermille)
      throws InterruptedException {
    FakeTime time = FakeTime.autoAdvancing();
    Duration interval = Duration.ofNanos(intervalMicros * 1000L);
    TokenBucketGate gate =
        (TokenBucketGate) RateGate.builder().spacing(interval).ticker(time).sleeper(time).build();
    long[] grants = new long[gapsPermille.size()];
    for (int i = 0; i < grants.length; i++) {
      time.advance(interval.toNanos() * gapsPermille.get(i) / 1000);
      grants[i] = gate.acquireAt(Long.MAX_VALUE);
      if (i > 0) {
        assertThat(grants[i] - grants[i - 1]).isGreaterThanOrEqualTo(interval.toNanos());
      }
    }
    Windows.assertWithinBoundForInterval(grants, interval.toNanos(), 1);
  }
}
