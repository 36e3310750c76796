package dev.fanout.rate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The one test on the real clock: many threads, one gate, two seconds. */
class RateGateStressTest {

  @Test
  void sixtyFourThreadsOnFiveHundredPerSecondStayWithinTheBoundAndNobodyStarves()
      throws Exception {
    int threads = 64;
    double rate = 500;
    int burst = 1;
    long runNanos = 2_000_000_000L;
    TokenBucketGate gate = (TokenBucketGate) RateGate.perSecond(rate, burst);
    long start = System.nanoTime();
    long end = start + runNanos;
    int[] permits = new int[threads];
    ConcurrentLinkedQueue<Long> grants = new ConcurrentLinkedQueue<>();
    CountDownLatch ready = new CountDownLatch(threads);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      workers.add(
          Thread.ofPlatform()
              .name("stress-" + t)
              .start(
                  () -> {
                    ready.countDown();
                    try {
                      while (System.nanoTime() < end) {
                        long grant = gate.acquireAt(Long.MAX_VALUE);
                        if (System.nanoTime() <= end) {
                          permits[id]++;
                          grants.add(grant);
                        }
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }));
    }
    for (Thread w : workers) {
      w.join();
    }
    double seconds = runNanos / 1e9;
    int total = 0;
    for (int p : permits) {
      total += p;
    }
    // Everything counted passed between the gate's creation and `end`.
    assertThat((double) total).isLessThanOrEqualTo(burst + rate * seconds);
    // Liveness, with room for a busy 2-core machine.
    assertThat((double) total).isGreaterThan(0.5 * rate * seconds);
    for (int t = 0; t < threads; t++) {
      assertThat(permits[t]).as("permits of thread %d", t).isPositive();
    }
    // And the stronger claim: no window of any length holds more than burst + rate * t grants.
    Windows.assertWithinBound(grants.stream().mapToLong(Long::longValue).toArray(), rate, burst);
    assertThat(ready.getCount()).isZero();
  }
}
