package dev.fanout.breaker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.breaker.CircuitBreaker.State;
import dev.fanout.retry.ThrottledException;
import dev.fanout.time.FakeTime;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Many threads on one breaker at once, on a hand-driven clock. Every count is exact: permits
 * granted in half-open, transitions, and permits left over.
 */
class CircuitBreakerStressTest {
  private static final int THREADS = 16;
  private static final int ROUNDS = 100;
  private static final int HALF_OPEN_CALLS = 3;

  private final FakeTime time = FakeTime.manual();
  private final ConcurrentLinkedQueue<String> transitions = new ConcurrentLinkedQueue<>();

  private CircuitBreaker breaker(int consecutive) {
    return CircuitBreaker.builder()
        .name("stress")
        .ticker(time)
        .consecutiveFailures(consecutive)
        .halfOpenCalls(HALF_OPEN_CALLS)
        .openDuration(Duration.ofSeconds(1))
        .listener((b, from, to) -> transitions.add(from + "->" + to))
        .build();
  }

  /**
   * Each round: the breaker is open and its time has passed; all threads ask at once (exactly
   * {@link #HALF_OPEN_CALLS} are permitted), then keep asking while holders give their permits back
   * (never more than {@link #HALF_OPEN_CALLS} held at once), then the trials succeed and it closes.
   */
  @Test
  void halfOpenGrantsAtMostHalfOpenCallsPermitsAtOnceAcrossThreads() throws Exception {
    CircuitBreaker breaker = breaker(1);
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger maxInside = new AtomicInteger();
    AtomicInteger firstGrants = new AtomicInteger();
    AtomicInteger grants = new AtomicInteger();
    AtomicInteger givenBack = new AtomicInteger();
    CyclicBarrier start = new CyclicBarrier(THREADS + 1);
    CyclicBarrier asked = new CyclicBarrier(THREADS + 1);
    CyclicBarrier done = new CyclicBarrier(THREADS + 1);
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      SplittableRandom random = new SplittableRandom(t);
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      for (int round = 0; round < ROUNDS; round++) {
                        start.await();
                        boolean holding = breaker.tryAcquirePermission();
                        if (holding) {
                          firstGrants.incrementAndGet();
                          enter(inside, maxInside);
                        }
                        asked.await();
                        for (int i = 0; i < 50; i++) {
                          if (holding) {
                            inside.decrementAndGet();
                            if (random.nextBoolean()) {
                              breaker.releasePermission();
                            } else {
                              breaker.onError(new ThrottledException("429")); // ignored
                            }
                            givenBack.incrementAndGet();
                          }
                          holding = breaker.tryAcquirePermission();
                          if (holding) {
                            grants.incrementAndGet();
                            enter(inside, maxInside);
                          }
                        }
                        if (holding) {
                          inside.decrementAndGet();
                          breaker.releasePermission();
                          givenBack.incrementAndGet();
                        }
                        done.await();
                      }
                    } catch (Throwable e) {
                      failures.add(e);
                    }
                  }));
    }
    int expectedGrants = 0;
    for (int round = 0; round < ROUNDS; round++) {
      assertThat(breaker.tryAcquirePermission()).isTrue();
      breaker.onError(new IOException("down"));
      assertThat(breaker.state()).isEqualTo(State.OPEN);
      time.advance(Duration.ofSeconds(1));
      firstGrants.set(0);
      start.await();
      asked.await();
      assertThat(firstGrants).as("round %d", round).hasValue(HALF_OPEN_CALLS);
      done.await();
      expectedGrants += HALF_OPEN_CALLS;
      assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
      assertThat(breaker.metrics().trialsInFlight()).isZero();
      assertThat(inside).hasValue(0);
      for (int i = 0; i < HALF_OPEN_CALLS; i++) {
        assertThat(breaker.tryAcquirePermission()).isTrue();
      }
      assertThat(breaker.tryAcquirePermission()).isFalse();
      for (int i = 0; i < HALF_OPEN_CALLS; i++) {
        breaker.onSuccess();
      }
      assertThat(breaker.state()).isEqualTo(State.CLOSED);
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(failures).isEmpty();
    assertThat(maxInside.get()).isBetween(1, HALF_OPEN_CALLS);
    assertThat(expectedGrants).isEqualTo(ROUNDS * HALF_OPEN_CALLS);
    assertThat(givenBack.get()).isEqualTo(expectedGrants + grants.get());
    List<String> expected = new ArrayList<>();
    for (int round = 0; round < ROUNDS; round++) {
      expected.addAll(List.of("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED"));
    }
    assertThat(transitions).containsExactlyElementsOf(expected);
  }

  private static void enter(AtomicInteger inside, AtomicInteger maxInside) {
    int now = inside.incrementAndGet();
    maxInside.accumulateAndGet(now, Math::max);
  }

  /** All threads fail at once while closed: the breaker opens exactly once per round. */
  @Test
  void concurrentFailuresOpenTheBreakerExactlyOnce() throws Exception {
    CircuitBreaker breaker = breaker(4);
    CyclicBarrier start = new CyclicBarrier(THREADS + 1);
    CyclicBarrier done = new CyclicBarrier(THREADS + 1);
    AtomicInteger permitted = new AtomicInteger();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      for (int round = 0; round < ROUNDS; round++) {
                        start.await();
                        for (int i = 0; i < 4; i++) {
                          if (breaker.tryAcquirePermission()) {
                            permitted.incrementAndGet();
                            breaker.onError(new IOException("down"));
                          }
                        }
                        done.await();
                      }
                    } catch (Throwable e) {
                      failures.add(e);
                    }
                  }));
    }
    for (int round = 0; round < ROUNDS; round++) {
      start.await();
      done.await();
      assertThat(breaker.state()).as("round %d", round).isEqualTo(State.OPEN);
      breaker.reset();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(failures).isEmpty();
    assertThat(permitted.get()).isGreaterThanOrEqualTo(4 * ROUNDS);
    List<String> expected = new ArrayList<>();
    for (int round = 0; round < ROUNDS; round++) {
      expected.addAll(List.of("CLOSED->OPEN", "OPEN->CLOSED"));
    }
    assertThat(transitions).containsExactlyElementsOf(expected);
  }
}
