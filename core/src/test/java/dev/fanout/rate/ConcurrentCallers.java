package dev.fanout.rate;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/** Several threads taking permits from one gate at once, for the bound's property tests. */
final class ConcurrentCallers {
  private ConcurrentCallers() {}

  /**
   * Starts {@code threads} platform threads together; each makes {@code calls} calls, chosen at
   * random from its own seeded generator: wait as long as it takes, wait up to three intervals, or
   * take only a permit that is free now. Before each call {@code between} may move the clock;
   * {@code taken} sees the reading of each permit taken, on the thread that took it.
   *
   * @return the readings of all permits taken
   * @throws AssertionError naming the first failure of a thread
   */
  static long[] acquire(
      TokenBucketGate gate,
      int threads,
      int calls,
      long seed,
      long interval,
      Consumer<SplittableRandom> between,
      LongConsumer taken)
      throws InterruptedException {
    ConcurrentLinkedQueue<Long> readings = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    CyclicBarrier start = new CyclicBarrier(threads);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      SplittableRandom random = new SplittableRandom(seed + t);
      workers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      start.await();
                      for (int i = 0; i < calls; i++) {
                        between.accept(random);
                        long at =
                            switch (random.nextInt(3)) {
                              case 0 -> gate.acquireAt(Long.MAX_VALUE);
                              case 1 -> gate.acquireAt(random.nextLong(3 * interval + 1));
                              default -> gate.acquireAt(0); // no wait at all
                            };
                        if (at != TokenBucketGate.REFUSED) {
                          readings.add(at);
                          taken.accept(at);
                        }
                      }
                    } catch (Throwable e) {
                      failures.add(e);
                    }
                  }));
    }
    for (Thread w : workers) {
      w.join();
    }
    if (!failures.isEmpty()) {
      throw new AssertionError("a caller failed", failures.peek());
    }
    return readings.stream().mapToLong(Long::longValue).toArray();
  }
}
