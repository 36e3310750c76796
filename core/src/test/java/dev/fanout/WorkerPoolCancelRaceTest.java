package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * A job's completion races its cancellation (by key and by handle, from other threads, while it is
 * queued, starting, running or finishing): every job still completes exactly once, and the pool's
 * counters agree with the results delivered.
 */
class WorkerPoolCancelRaceTest {

  @Test
  void everyJobCompletesExactlyOnceWhateverCancelsItMeanwhile() throws Exception {
    int n = 20_000;
    CountingThreadFactory threads = new CountingThreadFactory();
    ConcurrentHashMap<Integer, AtomicInteger> deliveries = new ConcurrentHashMap<>();
    AtomicLong successes = new AtomicLong();
    AtomicLong cancellations = new AtomicLong();
    ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
    List<TaskHandle<Integer, Integer>> handles = new ArrayList<>(n);
    try (WorkerPool pool =
        WorkerPool.builder(
                ParallelConfig.builder().concurrency(16).rateSpacing(Duration.ZERO).maxAttempts(1).build())
            .name("cancel-race")
            .threadFactory(threads)
            .build()) {
      // The cancellers take each job soon after it was submitted, so it may be queued, starting,
      // running or finishing, and cancel about half of them, by key or by handle.
      LinkedBlockingQueue<Object> submitted = new LinkedBlockingQueue<>();
      Object end = new Object();
      Thread[] cancellers = new Thread[2];
      for (int c = 0; c < cancellers.length; c++) {
        SplittableRandom random = new SplittableRandom(c);
        cancellers[c] =
            Thread.ofPlatform()
                .start(
                    () -> {
                      try {
                        for (Object next = submitted.take(); next != end; next = submitted.take()) {
                          TaskHandle<?, ?> h = (TaskHandle<?, ?>) next;
                          switch (random.nextInt(4)) {
                            case 0 -> pool.cancel(h.key());
                            case 1 -> h.cancel();
                            default -> {} // left to complete
                          }
                        }
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    });
      }
      for (int key = 0; key < n; key++) {
        TaskHandle<Integer, Integer> handle =
            pool.submit(
                key,
                k -> {
                  if (k % 3 == 0) {
                    LockSupport.parkNanos(20_000); // sometimes running when cancelled
                  }
                  return k;
                });
        handle
            .result()
            .whenComplete(
                (result, error) -> {
                  deliveries.computeIfAbsent(result.key(), k -> new AtomicInteger()).incrementAndGet();
                  switch (result) {
                    case Result.Success<Integer, Integer> s -> {
                      if (!s.value().equals(s.key())) {
                        wrong.add(s.toString());
                      }
                      successes.incrementAndGet();
                    }
                    case Result.Failure<Integer, Integer> f -> {
                      if (!(f.error() instanceof CancellationException)) {
                        wrong.add(f.toString());
                      }
                      cancellations.incrementAndGet();
                    }
                  }
                });
        handles.add(handle);
        submitted.add(handle);
      }
      for (Thread c : cancellers) {
        submitted.add(end); // one per canceller
      }
      for (Thread c : cancellers) {
        c.join();
      }
      for (TaskHandle<Integer, Integer> h : handles) {
        assertThat(h.await(Duration.ofSeconds(30))).isNotNull();
      }
      assertThat(pool.status().completed()).isEqualTo(successes.get());
      assertThat(pool.status().failed()).isEqualTo(cancellations.get());
    }
    assertThat(wrong).isEmpty();
    assertThat(deliveries).hasSize(n);
    assertThat(deliveries.values()).allSatisfy(count -> assertThat(count.get()).isEqualTo(1));
    assertThat(successes.get() + cancellations.get()).isEqualTo(n);
    assertThat(cancellations.get()).as("the race really cancelled some").isPositive();
    assertThat(threads.aliveThreads()).isEmpty();
  }
}
