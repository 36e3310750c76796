package dev.fanout.rate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fanout.time.Ticker;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Rate changes that race each other, with the race forced at a chosen point: the gate's ticker runs
 * a hook on a given reading, and the hook lets a second thread run as far as it can.
 */
class AdaptiveRateGateRaceTest {

  /** A frozen clock that runs a hook once, on the n-th reading after it is armed. */
  static final class HookedTicker implements Ticker {
    private final long now = 1_000;
    private int readsLeft;
    private @Nullable Runnable hook;

    void onRead(int n, Runnable hook) {
      this.readsLeft = n;
      this.hook = hook;
    }

    @Override
    public long read() {
      Runnable h = hook;
      if (h != null && Thread.currentThread().getName().equals("first") && --readsLeft == 0) {
        hook = null;
        h.run();
      }
      return now;
    }
  }

  @Test
  void twoThrottlingSignalsTogetherPushTheNextPermitBackOnce() throws Exception {
    HookedTicker ticker = new HookedTicker();
    AdaptiveRateGate gate =
        AdaptiveRateGate.builder()
            .floor(1)
            .ceiling(10)
            .burst(4)
            .cooldown(Duration.ofSeconds(1))
            .ticker(ticker)
            .sleeper(nanos -> {
              throw new AssertionError("not expected to sleep");
            })
            .build();
    assertThat(gate.tryAcquire()).isTrue();
    assertThat(gate.tryAcquire()).isTrue(); // 2 of 4 left at 10/s, so the bucket is not full

    // The first signal's rate change reads the clock (its 2nd reading) just before it moves the
    // owed time; there the second signal runs as far as it can.
    Thread second = new Thread(gate::onThrottle, "second");
    ticker.onRead(
        2,
        () -> {
          second.start();
          await()
              .atMost(Duration.ofSeconds(10))
              .until(
                  () ->
                      second.getState() == Thread.State.TERMINATED
                          || second.getState() == Thread.State.WAITING);
        });
    Thread first = new Thread(gate::onThrottle, "first");
    first.start();
    first.join();
    second.join();

    assertThat(gate.rate()).isEqualTo(5); // one decrease: the other signal is in its cooldown
    // One decrease keeps the next permit due now (the one left of 4 at 10/s becomes the one left
    // of 4 at 5/s); each signal moving the owed time would have taken it away.
    assertThat(gate.tryAcquire()).as("the next permit is still due").isTrue();
    assertThat(gate.tryAcquire()).as("and the ones after it come at 5/s").isFalse();
  }
}
