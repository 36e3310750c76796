package dev.fanout.bulkhead;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Many threads through one bulkhead at once, mixing {@code tryAcquire}, a bounded {@code acquire}
 * and {@code call}: never more than maxConcurrent inside, every permit taken is given back, and
 * every attempt is either let in or refused, counted exactly.
 */
class BulkheadStressTest {
  private static final int THREADS = 16;
  private static final int CALLS = 2_000;
  private static final int MAX = 3;

  @Test
  void neverMoreThanMaxConcurrentInsideAndEveryPermitComesBack() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Bulkhead bulkhead =
        Bulkhead.builder()
            .name("stress")
            .maxConcurrent(MAX)
            .maxWait(Duration.ofNanos(200_000))
            .meterRegistry(registry)
            .build();
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger maxInside = new AtomicInteger();
    AtomicInteger admitted = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    CyclicBarrier start = new CyclicBarrier(THREADS);
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      SplittableRandom random = new SplittableRandom(42 + t);
      Runnable work =
          () -> {
            int now = inside.incrementAndGet();
            maxInside.accumulateAndGet(now, Math::max);
            admitted.incrementAndGet();
            for (int spin = random.nextInt(200); spin > 0; spin--) {
              Thread.onSpinWait();
            }
            if (random.nextInt(20) == 0) {
              Thread.yield();
            }
            inside.decrementAndGet();
          };
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      start.await();
                      for (int i = 0; i < CALLS; i++) {
                        switch (random.nextInt(3)) {
                          case 0 -> {
                            if (bulkhead.tryAcquire()) {
                              try {
                                work.run();
                              } finally {
                                bulkhead.release();
                              }
                            } else {
                              refused.incrementAndGet();
                            }
                          }
                          case 1 -> {
                            try {
                              bulkhead.acquire();
                            } catch (BulkheadFullException e) {
                              refused.incrementAndGet();
                              continue;
                            }
                            try {
                              work.run();
                            } finally {
                              bulkhead.release();
                            }
                          }
                          default -> {
                            try {
                              bulkhead.call(
                                  () -> {
                                    work.run();
                                    return null;
                                  });
                            } catch (BulkheadFullException e) {
                              refused.incrementAndGet();
                            }
                          }
                        }
                      }
                    } catch (Throwable e) {
                      failures.add(e);
                    }
                  }));
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(failures).isEmpty();
    assertThat(maxInside.get()).isBetween(1, MAX);
    assertThat(admitted.get() + refused.get()).isEqualTo(THREADS * CALLS);
    assertThat(bulkhead.available()).isEqualTo(MAX);
    assertThat(inside).hasValue(0);
    assertThat(registry.get("fanout.bulkhead.rejections").counter().count())
        .isEqualTo(refused.get());
    assertThat(registry.get("fanout.bulkhead.available").gauge().value()).isEqualTo(MAX);
  }
}
