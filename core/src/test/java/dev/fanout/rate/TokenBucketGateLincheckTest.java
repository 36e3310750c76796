package dev.fanout.rate;

import dev.fanout.time.Sleeper;
import dev.fanout.time.Ticker;
import java.util.concurrent.atomic.AtomicLong;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;

/**
 * Model checking of {@link TokenBucketGate}'s lock-free fast path ({@code takeIfDue}): every
 * interleaving of {@code tryAcquire()} and clock steps that Lincheck explores must give the results
 * of some sequential order of the same calls on a plain bucket of tokens.
 *
 * <p>The clock is part of the tested state and moves only by whole intervals ({@link #tick()}), so
 * the sequential behaviour is a bucket of {@link #BURST} tokens that gains one token per step and
 * never holds more than {@link #BURST}.
 */
public class TokenBucketGateLincheckTest {
  static final long INTERVAL = 100;
  static final int BURST = 2;

  private final AtomicLong now = new AtomicLong(1_000);

  private final TokenBucketGate gate =
      new TokenBucketGate(
          new RateGate.Limit(INTERVAL, BURST), (Ticker) now::get, noSleep(), "lincheck", null);

  @Operation
  public boolean tryAcquire() {
    return gate.tryAcquire();
  }

  @Operation
  public void tick() {
    now.addAndGet(INTERVAL);
  }

  /**
   * Three threads of two calls each. A reading taken before the gate's state was read once made a
   * caller refuse a permit that was free during its whole call (two threads suffice: a clock step
   * and another caller's permit between the reading and the state read); this finds it within the
   * first few scenarios.
   */
  @Test
  void tryAcquireIsLinearizableToABucketOfTokens() {
    new ModelCheckingOptions()
        .iterations(10)
        .invocationsPerIteration(500)
        .threads(3)
        .actorsPerThread(2)
        .actorsBefore(1)
        .actorsAfter(0)
        .sequentialSpecification(Bucket.class)
        .check(getClass());
  }

  static Sleeper noSleep() {
    return nanos -> {
      throw new AssertionError("tryAcquire() never sleeps, was asked to sleep " + nanos + " ns");
    };
  }

  /** The sequential specification: BURST tokens, one more per tick, never more than BURST. */
  public static final class Bucket {
    private int tokens = BURST;

    public boolean tryAcquire() {
      if (tokens == 0) {
        return false;
      }
      tokens--;
      return true;
    }

    public void tick() {
      tokens = Math.min(BURST, tokens + 1);
    }
  }
}
