package dev.fanout.rate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.time.AdversarialTime;
import dev.fanout.time.FakeTime;
import dev.fanout.time.Sleeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/**
 * The bound of every gate kind holds on the times callers observe {@code acquire()} return,
 * under time that misbehaves: sleeps that overshoot or end early and a clock that jumps.
 */
class RateGateObservedTimePropertiesTest {
  private static final long MS = 1_000_000L;

  @Test
  void aLateWakeDoesNotLetTheNextCallerThroughEarly() throws InterruptedException {
    FakeTime time = FakeTime.autoAdvancing();
    boolean[] overslept = {false};
    Sleeper oversleepsOnce =
        nanos -> {
          time.sleep(nanos);
          if (nanos > 0 && !overslept[0]) {
            overslept[0] = true;
            time.advance(75 * MS);
          }
        };
    RateGate gate =
        RateGate.builder().spacing(Duration.ofMillis(100)).ticker(time).sleeper(oversleepsOnce).build();
    long[] returns = new long[5];
    for (int i = 0; i < returns.length; i++) {
      gate.acquire();
      returns[i] = time.read();
    }
    for (int i = 1; i < returns.length; i++) {
      assertThat(returns[i] - returns[i - 1])
          .as("return %d came %d ms after return %d", i, (returns[i] - returns[i - 1]) / MS, i - 1)
          .isGreaterThanOrEqualTo(100 * MS);
    }
    assertThat(returns[1] - returns[0]).as("the late wake").isEqualTo(175 * MS);
    assertThat(returns[2] - returns[1]).as("pushed its successor back").isEqualTo(100 * MS);
  }

  @Property(tries = 150)
  void everyGateKindHoldsItsBoundOnReturnTimes(
      @ForAll @IntRange(min = 0, max = 2) int kind,
      @ForAll @DoubleRange(min = 1, max = 2000) double rate,
      @ForAll @IntRange(min = 1, max = 8) int burst,
      @ForAll long seed)
      throws InterruptedException {
    long interval = RateGate.Limit.intervalNanos(rate);
    AdversarialTime time = AdversarialTime.random(seed, 3 * interval, 2 * interval);
    RateGate gate =
        switch (kind) {
          case 0 -> RateGate.builder().spacing(Duration.ofNanos(interval)).ticker(time).sleeper(time).build();
          case 1 -> RateGate.builder().perSecond(rate, burst).ticker(time).sleeper(time).build();
          default ->
              AdaptiveRateGate.builder()
                  .floor(rate / 4)
                  .ceiling(rate)
                  .initialRate(rate)
                  .burst(burst)
                  .ticker(time)
                  .sleeper(time)
                  .build();
        };
    int effectiveBurst = kind == 0 ? 1 : burst;
    SplittableRandom random = new SplittableRandom(seed);
    List<Long> returns = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      if (random.nextInt(5) == 0) {
        time.advance(random.nextLong(2 * interval + 1));
      }
      boolean taken =
          switch (random.nextInt(3)) {
            case 0 -> {
              gate.acquire();
              yield true;
            }
            case 1 -> gate.tryAcquire(Duration.ofNanos(random.nextLong(3 * interval + 1)));
            default -> gate.tryAcquire();
          };
      if (taken) {
        returns.add(time.peek()); // what the protected service would see
      }
      if (gate instanceof AdaptiveRateGate adaptive) {
        if (random.nextInt(10) == 0) {
          adaptive.onThrottle();
        } else {
          adaptive.onSuccess();
        }
      }
    }
    assertThat(returns).isNotEmpty();
    // An adaptive gate never runs above its ceiling, whatever it learned meanwhile.
    Windows.assertWithinBound(returns.stream().mapToLong(Long::longValue).toArray(), rate, effectiveBurst);
  }

  @Property(tries = 60)
  void keyedGatesHoldEachKeysBoundOnReturnTimesAcrossEvictions(
      @ForAll @LongRange(min = 1, max = 50) long intervalMs,
      @ForAll @IntRange(min = 1, max = 6) int keys,
      @ForAll long seed)
      throws InterruptedException {
    long interval = intervalMs * MS;
    AdversarialTime time = AdversarialTime.random(seed, 3 * interval, 2 * interval);
    KeyedRateGates<Integer> gates =
        KeyedRateGates.<Integer>builder(
                k -> RateGate.builder().spacing(Duration.ofNanos(interval)).ticker(time).sleeper(time).build())
            .sweepThreshold(2)
            .build();
    SplittableRandom random = new SplittableRandom(seed);
    Map<Integer, List<Long>> returns = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      if (random.nextInt(4) == 0) {
        time.advance(random.nextLong(3 * interval + 1));
      }
      int key = random.nextInt(keys);
      gates.acquire(key);
      returns.computeIfAbsent(key, k -> new ArrayList<>()).add(time.peek());
      if (random.nextInt(8) == 0) {
        gates.evictIdle();
      }
    }
    returns.forEach(
        (key, times) ->
            Windows.assertWithinBoundForInterval(times.stream().mapToLong(Long::longValue).toArray(), interval, 1));
  }

  @Property(tries = 40)
  void concurrentCallersUnderHostileTimeStayWithinTheBound(
      @ForAll @DoubleRange(min = 1, max = 5000) double rate,
      @ForAll @IntRange(min = 1, max = 6) int burst,
      @ForAll @IntRange(min = 2, max = 6) int threads,
      @ForAll long seed)
      throws Exception {
    long interval = RateGate.Limit.intervalNanos(rate);
    AdversarialTime time = AdversarialTime.random(seed, 3 * interval, interval);
    TokenBucketGate gate =
        (TokenBucketGate) RateGate.builder().perSecond(rate, burst).ticker(time).sleeper(time).build();
    ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    long[] taken =
        ConcurrentCallers.acquire(
            gate,
            threads,
            50,
            seed,
            interval,
            random -> {},
            at -> {
              long seen = time.peek();
              if (seen < at) {
                errors.add("returned before its permit: " + seen + " < " + at);
              }
            });
    assertThat(errors).isEmpty();
    assertThat(taken).isNotEmpty();
    assertThat(gate.waiting()).isZero();
    Windows.assertWithinBound(taken, rate, burst);
  }
}
