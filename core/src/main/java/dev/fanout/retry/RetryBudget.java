package dev.fanout.retry;

import dev.fanout.internal.Names;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A token bucket shared by many calls that stops retry storms: every retry spends
 * {@link #retryCost()} tokens, successes put tokens back, and when too few are left a
 * {@link RetryPolicy} fails the call at once with a {@link RetryBudgetExhaustedException} instead
 * of retrying. When a whole fan-out fails together (the service is down, the credentials expired),
 * the first few calls retry, the rest fail fast, and the service is not hammered with
 * {@code keys * maxAttempts} calls. This is the AWS SDK's "retry quota"; no general-purpose
 * Java retry library has one.
 *
 * <p>Refill: a success on the first attempt returns {@link #successRefill()} tokens; a success
 * after retries returns {@code retryCost} (the cost of the retry that worked). The balance never
 * drops below zero nor rises above {@link #capacity()}. First attempts are never refused, so a
 * budget spent during an outage refills by itself once calls succeed again. {@link #standard()}
 * uses the AWS SDK's values: 500 tokens, 5 per retry, 1 back per success, so in the long run at
 * most about one call in five may retry.
 *
 * {@snippet :
 * RetryBudget budget = RetryBudget.standard();
 * RetryPolicy ec2 = RetryPolicy.builder().budget(budget).build();
 * RetryPolicy eks = RetryPolicy.builder().budget(budget).build(); // shares the same tokens
 * }
 *
 * <p>Thread-safe and lock-free. With a {@link MeterRegistry} (see {@link Builder#meterRegistry})
 * it publishes {@code fanout.retry.budget.tokens} (gauge) and {@code fanout.retry.budget.refusals}
 * (counter), tagged {@code name}.
 */
public final class RetryBudget {

  private final String name;
  private final int capacity;
  private final int retryCost;
  private final int successRefill;
  private final AtomicLong tokens;
  private final @Nullable Counter refusals;

  private RetryBudget(Builder b) {
    this.name = b.name;
    this.capacity = b.capacity;
    this.retryCost = b.retryCost;
    this.successRefill = b.successRefill;
    this.tokens = new AtomicLong(capacity);
    MeterRegistry registry = b.registry;
    if (registry == null) {
      this.refusals = null;
    } else {
      Gauge.builder("fanout.retry.budget.tokens", tokens, AtomicLong::get)
          .description("Tokens left in the retry budget")
          .tag("name", name)
          .register(registry);
      this.refusals =
          Counter.builder("fanout.retry.budget.refusals")
              .description("Retries refused because the retry budget was spent")
              .tag("name", name)
              .register(registry);
    }
  }

  /** 500 tokens, 5 per retry, 1 back per success: the AWS SDK's standard retry quota. */
  public static RetryBudget standard() {
    return builder().build();
  }

  /** A builder starting from the {@link #standard()} values. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Spends {@link #retryCost()} tokens for one retry if that many are left.
   *
   * @return whether the retry may go ahead
   */
  public boolean tryAcquireRetry() {
    long current;
    do {
      current = tokens.get();
      if (current < retryCost) {
        if (refusals != null) {
          refusals.increment();
        }
        return false;
      }
    } while (!tokens.compareAndSet(current, current - retryCost));
    return true;
  }

  /**
   * Records a success: returns {@link #successRefill()} tokens, or {@link #retryCost()} if the
   * call needed retries, up to the capacity.
   *
   * @param afterRetries whether the call succeeded only after one or more retries
   */
  public void recordSuccess(boolean afterRetries) {
    long refill = afterRetries ? retryCost : successRefill;
    long current;
    do {
      current = tokens.get();
      if (current >= capacity) {
        return; // the usual case when all is well: a read, no write, no contention
      }
    } while (!tokens.compareAndSet(current, Math.min(capacity, current + refill)));
  }

  /** Tokens left now, between 0 and {@link #capacity()}. */
  public long available() {
    return tokens.get();
  }

  /** The most tokens the budget holds; it starts full. */
  public int capacity() {
    return capacity;
  }

  /** Tokens one retry spends. */
  public int retryCost() {
    return retryCost;
  }

  /** Tokens a success on the first attempt returns. */
  public int successRefill() {
    return successRefill;
  }

  /** The name used in messages and the {@code name} meter tag. */
  public String name() {
    return name;
  }

  @Override
  public String toString() {
    return "RetryBudget[name="
        + name
        + ", tokens="
        + tokens.get()
        + "/"
        + capacity
        + ", retryCost="
        + retryCost
        + ", successRefill="
        + successRefill
        + "]";
  }

  /** Builds a {@link RetryBudget}; {@link #build()} validates. Not thread-safe. */
  public static final class Builder {
    private String name = "default";
    private int capacity = 500;
    private int retryCost = 5;
    private int successRefill = 1;
    private @Nullable MeterRegistry registry;

    private Builder() {}

    /** The name for messages and meters; {@code default} unless set. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name must not be null");
      this.name = Names.nonBlank(name);
      return this;
    }

    /** The most tokens, at least 1; 500 unless set. */
    public Builder capacity(int capacity) {
      this.capacity = capacity;
      return this;
    }

    /** Tokens per retry, 1 to {@code capacity}; 5 unless set. */
    public Builder retryCost(int retryCost) {
      this.retryCost = retryCost;
      return this;
    }

    /** Tokens returned by a first-attempt success, 1 to {@code capacity}; 1 unless set. */
    public Builder successRefill(int successRefill) {
      this.successRefill = successRefill;
      return this;
    }

    /** Publishes the budget's meters (see the class documentation) to {@code registry}. */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry must not be null");
      return this;
    }

    /**
     * Validates and builds a full budget.
     *
     * @throws IllegalArgumentException if a value is out of range (the message names it)
     */
    public RetryBudget build() {
      if (capacity < 1) {
        throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
      }
      if (retryCost < 1 || retryCost > capacity) {
        throw new IllegalArgumentException(
            "retryCost must be between 1 and capacity (" + capacity + "), was " + retryCost);
      }
      if (successRefill < 1 || successRefill > capacity) {
        throw new IllegalArgumentException(
            "successRefill must be between 1 and capacity (" + capacity + "), was "
                + successRefill);
      }
      return new RetryBudget(this);
    }
  }
}
