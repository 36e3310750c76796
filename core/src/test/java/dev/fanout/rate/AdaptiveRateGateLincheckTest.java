package dev.fanout.rate;

import dev.fanout.time.Sleeper;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;

/**
 * Model checking of rate changes racing acquisitions: {@code compareAndSetParams} (which moves the
 * owed time, then swaps the rate) against the fast path's read of the owed time and the rate.
 * Every interleaving must give the results of some sequential order of the same calls on the same
 * gate, called one at a time: a permit never sees an interval of one rate with the tolerance of
 * another, a slowdown never lets a bucket that is not full pass permits at once, and slowdowns
 * that race each other move the owed time once, for the one that is installed.
 *
 * <p>The rate is 10 per second or, after a throttling signal, 5 per second; one success brings it
 * back to 10. Burst 2, no cooldown, a frozen clock. The bucket is not full when the scenario
 * starts and, the clock being frozen, never fills again.
 */
public class AdaptiveRateGateLincheckTest {
  private final AtomicLong now = new AtomicLong(1_000);

  private final AdaptiveRateGate gate =
      AdaptiveRateGate.builder()
          .floor(5)
          .ceiling(10)
          .initialRate(10)
          .burst(2)
          .increasePerSecond(25) // 5 + 25 / 5 = 10: one success undoes one decrease
          .cooldown(Duration.ZERO)
          .ticker(now::get)
          .sleeper(noSleep())
          .build();

  @Operation
  public boolean tryAcquire() {
    return gate.tryAcquire();
  }

  @Operation
  public void onThrottle() {
    gate.onThrottle();
  }

  @Operation
  public void onSuccess() {
    gate.onSuccess();
  }

  @Operation
  public double rate() {
    return gate.rate();
  }

  public AdaptiveRateGateLincheckTest() {
    if (!gate.tryAcquire()) {
      throw new AssertionError("a new gate passes its first permit");
    }
  }

  @Test
  void rateChangesAreAtomicWithAcquisitions() {
    new ModelCheckingOptions()
        .iterations(10)
        .invocationsPerIteration(300)
        .threads(3)
        .actorsPerThread(2)
        .actorsBefore(2)
        .actorsAfter(1)
        .check(getClass());
  }

  static Sleeper noSleep() {
    return nanos -> {
      throw new AssertionError("tryAcquire() never sleeps, was asked to sleep " + nanos + " ns");
    };
  }
}
