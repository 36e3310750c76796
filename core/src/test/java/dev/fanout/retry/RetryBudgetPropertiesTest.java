package dev.fanout.retry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class RetryBudgetPropertiesTest {

  enum Op {
    RETRY,
    SUCCESS,
    SUCCESS_AFTER_RETRIES
  }

  @Provide
  Arbitrary<Op> ops() {
    return Arbitraries.of(Op.class);
  }

  @Property(tries = 1000)
  void neverNegativeNorAboveCapacity(
      @ForAll @IntRange(min = 1, max = 1000) int capacity,
      @ForAll @IntRange(min = 1, max = 1000) int cost,
      @ForAll @IntRange(min = 1, max = 1000) int refill,
      @ForAll @Size(max = 400) List<@net.jqwik.api.From("ops") Op> ops) {
    RetryBudget budget =
        RetryBudget.builder()
            .capacity(capacity)
            .retryCost(Math.min(cost, capacity))
            .successRefill(Math.min(refill, capacity))
            .build();
    long model = capacity;
    for (Op op : ops) {
      switch (op) {
        case RETRY -> {
          boolean granted = budget.tryAcquireRetry();
          assertThat(granted).isEqualTo(model >= budget.retryCost());
          if (granted) {
            model -= budget.retryCost();
          }
        }
        case SUCCESS -> {
          budget.recordSuccess(false);
          model = Math.min(capacity, model + budget.successRefill());
        }
        case SUCCESS_AFTER_RETRIES -> {
          budget.recordSuccess(true);
          model = Math.min(capacity, model + budget.retryCost());
        }
      }
      assertThat(budget.available()).isEqualTo(model).isBetween(0L, (long) capacity);
    }
  }
}
