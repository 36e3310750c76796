package dev.fanout.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RetryBudgetTest {

  @Test
  void standardIsTheAwsQuota() {
    RetryBudget budget = RetryBudget.standard();
    assertThat(budget.capacity()).isEqualTo(500);
    assertThat(budget.retryCost()).isEqualTo(5);
    assertThat(budget.successRefill()).isEqualTo(1);
    assertThat(budget.available()).isEqualTo(500);
    for (int i = 0; i < 100; i++) {
      assertThat(budget.tryAcquireRetry()).isTrue();
    }
    assertThat(budget.tryAcquireRetry()).isFalse();
    budget.recordSuccess(false);
    assertThat(budget.available()).isEqualTo(1);
    budget.recordSuccess(true);
    assertThat(budget.available()).isEqualTo(6);
  }

  @Test
  void concurrentUseKeepsTheBalanceInRange() throws Exception {
    RetryBudget budget = RetryBudget.builder().capacity(50).retryCost(3).successRefill(2).build();
    int threads = 8;
    CyclicBarrier start = new CyclicBarrier(threads);
    AtomicBoolean outOfRange = new AtomicBoolean();
    AtomicLong granted = new AtomicLong();
    AtomicLong refilled = new AtomicLong();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      long seed = t;
      workers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    try {
                      start.await();
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                    for (int i = 0; i < 100_000; i++) {
                      if (random.nextInt(3) == 0) {
                        budget.recordSuccess(random.nextBoolean());
                        refilled.incrementAndGet();
                      } else if (budget.tryAcquireRetry()) {
                        granted.incrementAndGet();
                      }
                      long now = budget.available();
                      if (now < 0 || now > 50) {
                        outOfRange.set(true);
                      }
                    }
                  }));
    }
    for (Thread w : workers) {
      w.join();
    }
    assertThat(outOfRange).isFalse();
    assertThat(budget.available()).isBetween(0L, 50L);
    assertThat(granted.get()).isPositive();
    assertThat(refilled.get()).isPositive();
  }

  @Test
  void publishesTokensAndRefusals() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RetryBudget budget =
        RetryBudget.builder().name("aws").capacity(5).retryCost(5).meterRegistry(registry).build();
    assertThat(budget.tryAcquireRetry()).isTrue();
    assertThat(budget.tryAcquireRetry()).isFalse();
    assertThat(registry.get("fanout.retry.budget.tokens").tag("name", "aws").gauge().value())
        .isZero();
    assertThat(registry.get("fanout.retry.budget.refusals").tag("name", "aws").counter().count())
        .isEqualTo(1);
  }

  @Test
  void rejectsBadSettings() {
    assertThatThrownBy(() -> RetryBudget.builder().capacity(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("capacity must be at least 1, was 0");
    assertThatThrownBy(() -> RetryBudget.builder().capacity(10).retryCost(11).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("retryCost must be between 1 and capacity (10), was 11");
    assertThatThrownBy(() -> RetryBudget.builder().successRefill(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("successRefill must be between 1 and capacity (500), was 0");
    assertThatThrownBy(() -> RetryBudget.builder().name(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name must not be blank, was ' '");
  }
}
