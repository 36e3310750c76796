package dev.fanout.retry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

class BackoffPropertiesTest {

  @Provide
  Arbitrary<Backoff> backoffs() {
    Arbitrary<Long> initial =
        Arbitraries.oneOf(
            Arbitraries.just(0L),
            Arbitraries.longs().between(1, 1_000),
            Arbitraries.longs().between(1, Duration.ofMinutes(10).toNanos()));
    Arbitrary<Double> multiplier =
        Arbitraries.oneOf(Arbitraries.just(1.0), Arbitraries.doubles().between(1.0, 10.0));
    Arbitrary<Long> extra =
        Arbitraries.oneOf(
            Arbitraries.just(0L),
            Arbitraries.longs().between(0, Duration.ofHours(1).toNanos()),
            Arbitraries.just(Long.MAX_VALUE / 2));
    Arbitrary<Jitter> jitter = Arbitraries.of(Jitter.class);
    return Combinators.combine(initial, multiplier, extra, jitter)
        .as(
            (i, m, e, j) ->
                new Backoff(Duration.ofNanos(i), m, Duration.ofNanos(i + e), j));
  }

  @Property(tries = 2000)
  void eachJitterStaysWithinItsBounds(
      @ForAll("backoffs") Backoff backoff,
      @ForAll @IntRange(min = 1, max = 10_000) int retry,
      @ForAll @LongRange(min = -1, max = Long.MAX_VALUE) long previous,
      @ForAll long seed) {
    long delay = backoff.delayNanos(retry, previous, new SplittableRandom(seed));
    long base = backoff.baseNanos(retry);
    long initial = backoff.initial().toNanos();
    long max = backoff.max().toNanos();

    assertThat(delay).isBetween(0L, max);
    switch (backoff.jitter()) {
      case NONE -> assertThat(delay).isEqualTo(base);
      case FULL -> assertThat(delay).isBetween(0L, base);
      case EQUAL -> assertThat(delay).isBetween(base - base / 2, base);
      case DECORRELATED -> {
        long prev = previous <= 0 ? initial : previous;
        long upper = prev > Long.MAX_VALUE / 3 ? Long.MAX_VALUE : prev * 3;
        assertThat(delay).isBetween(initial, max);
        assertThat(delay).isLessThanOrEqualTo(Math.max(initial, upper));
      }
    }
  }

  @Property(tries = 500)
  void decorrelatedSequencesStayBetweenInitialAndMax(
      @ForAll("backoffs") Backoff backoff, @ForAll long seed) {
    Backoff decorrelated = backoff.withJitter(Jitter.DECORRELATED);
    SplittableRandom random = new SplittableRandom(seed);
    long previous = 0;
    for (int retry = 1; retry <= 100; retry++) {
      long delay = decorrelated.delayNanos(retry, previous, random);
      assertThat(delay).isBetween(backoff.initial().toNanos(), backoff.max().toNanos());
      previous = delay;
    }
  }

  @Property(tries = 1000)
  void exponentialWithoutJitterIsMonotoneAndCapped(@ForAll("backoffs") Backoff backoff) {
    Backoff plain = backoff.withJitter(Jitter.NONE);
    long max = plain.max().toNanos();
    long last = -1;
    for (int retry = 1; retry <= 2_000; retry++) {
      long delay = plain.delayNanos(retry, 0, new SplittableRandom(retry));
      assertThat(delay).isGreaterThanOrEqualTo(last).isLessThanOrEqualTo(max);
      last = delay;
    }
    assertThat(plain.delayNanos(1, 0, new SplittableRandom())).isEqualTo(plain.initial().toNanos());
    if (plain.multiplier() >= 1.5 && plain.initial().toNanos() > 0) {
      assertThat(last).as("reaches the cap eventually").isEqualTo(max);
    }
  }

  @Property(tries = 200)
  void theSameSeedGivesTheSameDelay(
      @ForAll("backoffs") Backoff backoff,
      @ForAll @IntRange(min = 1, max = 100) int retry,
      @ForAll long seed) {
    assertThat(backoff.delayNanos(retry, 0, new SplittableRandom(seed)))
        .isEqualTo(backoff.delayNanos(retry, 0, new SplittableRandom(seed)));
  }
}
