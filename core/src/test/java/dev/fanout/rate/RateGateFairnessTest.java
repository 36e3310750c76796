package dev.fanout.rate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fanout.time.FakeTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Waiters are served in arrival order, and a newcomer never overtakes a waiter. */
class RateGateFairnessTest {

  @ParameterizedTest(name = "burst {0}")
  @ValueSource(ints = {1, 3})
  void waitersAreServedInArrivalOrder(int burst) throws Exception {
    FakeTime time = FakeTime.manual();
    RateGate gate =
        RateGate.builder().perSecond(1, burst).ticker(time).sleeper(time).build();
    for (int i = 0; i < burst; i++) {
      gate.acquire(); // empty the bucket
    }
    int waiters = 20;
    ConcurrentLinkedQueue<Integer> served = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < waiters; i++) {
      int id = i;
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      gate.acquire();
                      served.add(id);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }));
      int arrived = i + 1;
      await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10)).until(() -> ((TokenBucketGate) gate).waiting() == arrived);
    }

    for (int second = 1; second <= waiters; second++) {
      assertThat(gate.tryAcquire()).as("a newcomer does not overtake the waiters").isFalse();
      time.advance(Duration.ofSeconds(1));
      int expected = second;
      await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10)).until(() -> served.size() == expected);
      assertThat(served).hasSize(second).last().isEqualTo(second - 1);
      assertThat(((TokenBucketGate) gate).waiting()).isEqualTo(waiters - second);
      // The next head is woken when its predecessor leaves and goes to sleep a moment later, so
      // the count of sleepers is read once the line has settled; it may never exceed one.
      int sleepers = second < waiters ? 1 : 0;
      AtomicInteger mostSleepers = new AtomicInteger();
      await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10))
          .until(() -> {
            int now = time.sleepers();
            mostSleepers.accumulateAndGet(now, Math::max);
            return now == sleepers;
          });
      assertThat(mostSleepers).as("only the head of the line sleeps").hasValueLessThanOrEqualTo(1);
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(served).containsExactlyElementsOf(range(waiters));
  }

  private static List<Integer> range(int n) {
    List<Integer> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      list.add(i);
    }
    return list;
  }
}
