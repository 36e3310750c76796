package dev.fanout.rate;

import dev.fanout.time.Sleeper;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * Model checking of {@link KeyedRateGates}: creating and replacing gates ({@code gate(key)},
 * {@code places} reservations, sweeps on creation with the CLOSED bit) racing {@link
 * KeyedRateGates#evictIdle()} and callers that keep a gate after it was evicted.
 *
 * <p>Results must be those of some sequential order of the same calls on one bucket of tokens per
 * key: eviction is invisible (an idle gate is full, as a new one is) and a retired gate forwards to
 * the live one. After each interleaving: at most one live gate per key among all gates ever handed
 * out, and it is the stored one; every place taken belongs to a stored gate and no scan is left
 * open.
 */
@Param(name = "key", gen = IntGen.class, conf = "0:1")
public class KeyedRateGatesLincheckTest {
  static final int KEYS = 2;
  static final int BURST = 2;
  static final long STEP = Duration.ofMillis(100).toNanos();

  private final AtomicLong now = new AtomicLong(1_000);

  private final KeyedRateGates<Integer> gates =
      KeyedRateGates.<Integer>builder(
              key ->
                  RateGate.builder()
                      .perSecond(10, BURST)
                      .ticker(now::get)
                      .sleeper(noSleep())
                      .build())
          .sweepThreshold(1) // the second key already needs a scan
          .build();

  /** The first gate of each key, kept by a caller across evictions. */
  private final List<RateGate> kept = new ArrayList<>();

  /** Every gate handed out, per key. */
  private final List<ConcurrentLinkedQueue<RateGate>> handedOut = new ArrayList<>();

  public KeyedRateGatesLincheckTest() {
    for (int key = 0; key < KEYS; key++) {
      RateGate gate = gates.gate(key);
      kept.add(gate);
      handedOut.add(new ConcurrentLinkedQueue<>(List.of(gate)));
    }
  }

  @Operation
  public boolean tryAcquire(@Param(name = "key") int key) {
    RateGate gate = gates.gate(key);
    handedOut.get(key).add(gate);
    return gate.tryAcquire();
  }

  @Operation
  public boolean tryAcquireKept(@Param(name = "key") int key) {
    return kept.get(key).tryAcquire();
  }

  @Operation
  public void tick() {
    now.addAndGet(STEP);
  }

  @Operation
  public void evictIdle() {
    gates.evictIdle();
  }

  @Validate
  public void oneLiveGatePerKeyAndPlacesMatchTheMap() throws ReflectiveOperationException {
    Map<?, ?> stored = (Map<?, ?>) field("gates").get(gates);
    for (int key = 0; key < KEYS; key++) {
      List<RateGate> live = new ArrayList<>();
      for (RateGate gate : handedOut.get(key)) {
        if (!TokenBucketGate.coreOf(gate).isRetired() && !live.contains(gate)) {
          live.add(gate);
        }
      }
      if (live.size() > 1) {
        throw new AssertionError("key " + key + " has " + live.size() + " live gates: " + live);
      }
      if (!live.isEmpty() && stored.get(key) != live.get(0)) {
        throw new AssertionError("key " + key + ": live gate " + live.get(0) + " is not stored");
      }
    }
    long places = ((AtomicLong) field("places").get(gates)).get();
    if (places != stored.size()) {
      throw new AssertionError("places = " + places + " (CLOSED = 2^40) for " + stored.size() + " gates");
    }
  }

  private static Field field(String name) throws NoSuchFieldException {
    Field f = KeyedRateGates.class.getDeclaredField(name);
    f.setAccessible(true);
    return f;
  }

  @Test
  void evictionIsInvisibleAndKeepsOneGatePerKey() {
    new ModelCheckingOptions()
        .iterations(5)
        .invocationsPerIteration(100)
        .threads(2)
        .actorsPerThread(3)
        .actorsBefore(1)
        .actorsAfter(1)
        .sequentialSpecification(Buckets.class)
        .check(getClass());
  }

  static Sleeper noSleep() {
    return nanos -> {
      throw new AssertionError("tryAcquire() never sleeps, was asked to sleep " + nanos + " ns");
    };
  }

  /** The sequential specification: one bucket of BURST tokens per key, one more per tick. */
  public static final class Buckets {
    private final int[] tokens = {BURST, BURST};

    public boolean tryAcquire(int key) {
      if (tokens[key] == 0) {
        return false;
      }
      tokens[key]--;
      return true;
    }

    public boolean tryAcquireKept(int key) {
      return tryAcquire(key);
    }

    public void tick() {
      for (int key = 0; key < KEYS; key++) {
        tokens[key] = Math.min(BURST, tokens[key] + 1);
      }
    }

    public void evictIdle() {}
  }
}
