package dev.fanout.rate;

import dev.fanout.time.Sleeper;
import dev.fanout.time.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;

/**
 * Model checking of {@link TokenBucketGate}'s line of waiters: {@code acquire()} (the fair lock,
 * the sleep at its head, the permit taken on waking), racing {@code tryAcquire()} and
 * {@code tryAcquire(Duration.ZERO)}, which must never overtake a waiter.
 *
 * <p>Time passes only while the head of the line sleeps: the sleeper moves the clock by what it is
 * asked to sleep. Only the head of the line sleeps, so the clock moves to exactly the slot it waits
 * for. Sequentially that is a bucket of {@link #BURST} tokens where {@code acquire()} on an empty
 * bucket waits one interval for the next token and takes it; {@code acquire()} returns the slot it
 * got, in intervals since the start, so the check covers the exact time of every permit as well
 * as the order of the waiters.
 */
public class TokenBucketGateLineLincheckTest {
  static final long INTERVAL = 100;
  static final int BURST = 2;
  static final long START = 1_000;

  private final AtomicLong now = new AtomicLong(START);

  private final TokenBucketGate gate =
      new TokenBucketGate(
          new RateGate.Limit(INTERVAL, BURST),
          (Ticker) now::get,
          (Sleeper) now::addAndGet,
          "lincheck",
          null);

  @Operation
  public long acquire() throws InterruptedException {
    return (gate.acquireAt(Long.MAX_VALUE) - START) / INTERVAL;
  }

  @Operation
  public boolean tryAcquire() {
    return gate.tryAcquire();
  }

  @Operation
  public boolean tryAcquireWithoutWaiting() throws InterruptedException {
    return gate.tryAcquire(Duration.ZERO);
  }

  @Test
  void waitersAreServedInOrderAtTheirSlots() {
    new ModelCheckingOptions()
        .iterations(10)
        .invocationsPerIteration(300)
        .threads(3)
        .actorsPerThread(2)
        .actorsBefore(1)
        .actorsAfter(1)
        .sequentialSpecification(Bucket.class)
        .check(getClass());
  }

  /**
   * The sequential specification: BURST tokens; an empty bucket refuses at once, or, for
   * {@code acquire()}, waits one interval for the next token.
   */
  public static final class Bucket {
    private int tokens = BURST;
    private long slot;

    public long acquire() {
      if (tokens == 0) {
        slot++; // the wait: one interval brings one token, taken at once
        tokens++;
      }
      tokens--;
      return slot;
    }

    public boolean tryAcquire() {
      if (tokens == 0) {
        return false;
      }
      tokens--;
      return true;
    }

    public boolean tryAcquireWithoutWaiting() {
      return tryAcquire();
    }
  }
}
