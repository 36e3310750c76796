package dev.fanout.lease;

import dev.fanout.retry.Backoff;
import dev.fanout.retry.Jitter;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * How long an idle worker, or one whose claims fail, waits before it polls again: exponential
 * back-off from {@link ClaimWorkersConfig#pollInterval()} up to {@link
 * ClaimWorkersConfig#maxPollInterval()}, with equal jitter above the doubled interval.
 *
 * <p>Wait {@code n} (1 for the first) is drawn uniformly from {@code [b(n), min(2 b(n), max)]},
 * where {@code b(n) = min(max, pollInterval * 2^(n-1))}: never shorter than the plain doubling
 * (so a poll interval means at least that long between polls), never longer than {@code
 * maxPollInterval} (so an idle worker finds new work within it), and spread so that workers that
 * went idle, or saw the store fail, together do not poll in step. It is the {@link Jitter#EQUAL}
 * draw of a {@link Backoff} at twice the intervals, capped.
 */
final class Pacing {
  private final Backoff backoff;
  private final long maxNanos;
  private final Supplier<? extends RandomGenerator> random;

  Pacing(ClaimWorkersConfig config, Supplier<? extends RandomGenerator> random) {
    this.backoff =
        Backoff.exponential(twice(config.pollInterval()), 2.0, twice(config.maxPollInterval()))
            .withJitter(Jitter.EQUAL);
    this.maxNanos = saturatedNanos(config.maxPollInterval());
    this.random = random;
  }

  /** Wait {@code round} (1 for the first) of a run of empty polls or failed claims. */
  Duration wait(int round) {
    return Duration.ofNanos(Math.min(maxNanos, backoff.delayNanos(round, 0, random.get())));
  }

  private static Duration twice(Duration d) {
    return d.compareTo(Backoff.MAX_DELAY.dividedBy(2)) >= 0 ? Backoff.MAX_DELAY : d.multipliedBy(2);
  }

  private static long saturatedNanos(Duration d) {
    return d.compareTo(Backoff.MAX_DELAY) >= 0 ? Long.MAX_VALUE : d.toNanos();
  }
}
