package dev.fanout.rate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.time.FakeTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The live-gate bound of {@link KeyedRateGates} holds while many threads create gates at once. */
class KeyedRateGatesConcurrencyTest {

  @Test
  void fourThreadsOfIdleKeysNeverGrowTheMapPastTheThreshold() throws Exception {
    // Nothing is acquired, so every gate is idle from birth: busy = 0 and the bound is 1024.
    KeyedRateGates<Long> gates =
        KeyedRateGates.create(key -> RateGate.spacing(Duration.ofMillis(100)));
    int threads = 4;
    int keysEach = 250_000;
    AtomicInteger maxSeen = new AtomicInteger();
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    CyclicBarrier start = new CyclicBarrier(threads);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      long base = (long) t * keysEach;
      workers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      start.await();
                      for (long k = base; k < base + keysEach; k++) {
                        gates.gate(k);
                        maxSeen.accumulateAndGet(gates.size(), Math::max);
                      }
                    } catch (Throwable e) {
                      errors.add(e);
                    }
                  }));
    }
    for (Thread w : workers) {
      w.join();
    }
    assertThat(errors).isEmpty();
    assertThat(maxSeen.get()).as("most live gates seen during the burst").isLessThanOrEqualTo(1024);
    assertThat(gates.size()).as("live gates after the burst").isLessThanOrEqualTo(1024);
    assertThat(gates.evictions()).isGreaterThanOrEqualTo((long) threads * keysEach - 1024);
  }

  @Test
  void busyGatesRaiseTheThresholdAndItComesDownAgainWithUse() throws Exception {
    FakeTime time = FakeTime.manual();
    KeyedRateGates<Integer> gates =
        KeyedRateGates.<Integer>builder(
                key -> RateGate.builder().spacing(Duration.ofSeconds(1)).ticker(time).sleeper(time).build())
            .sweepThreshold(16)
            .build();
    int threads = 4;
    int keysEach = 500;
    AtomicInteger maxSeen = new AtomicInteger();
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    CyclicBarrier start = new CyclicBarrier(threads);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int base = t * keysEach;
      workers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      start.await();
                      for (int k = base; k < base + keysEach; k++) {
                        // busy for a second: the clock does not move, so every gate stays busy
                        assertThat(gates.gate(k).tryAcquire()).isTrue();
                        maxSeen.accumulateAndGet(gates.size(), Math::max);
                      }
                    } catch (Throwable e) {
                      errors.add(e);
                    }
                  }));
    }
    for (Thread w : workers) {
      w.join();
    }
    assertThat(errors).isEmpty();
    int busy = threads * keysEach;
    assertThat(gates.size()).as("every busy gate is kept").isEqualTo(busy);
    assertThat(maxSeen.get()).isLessThanOrEqualTo(2 * busy);

    // A second later every gate is idle: using the map (no new keys) brings it back down.
    time.advance(Duration.ofSeconds(2));
    for (int i = 0; i < 200_000 && gates.size() > 16; i++) {
      gates.gate(i % busy);
    }
    assertThat(gates.size()).as("live gates once the burst is over").isLessThanOrEqualTo(16);
  }
}
