package dev.fanout.rate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fanout.time.FakeTime;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

class KeyedRateGatesTest {
  private final FakeTime time = FakeTime.autoAdvancing();

  private KeyedRateGates<Object> spacingGates(Duration interval) {
    return KeyedRateGates.create(
        key -> RateGate.builder().spacing(interval).ticker(time).sleeper(time).build());
  }

  @Test
  void makesOneGatePerKeyOnDemand() throws InterruptedException {
    KeyedRateGates<Object> gates = spacingGates(Duration.ofSeconds(1));
    RateGate a = gates.gate("a");
    assertThat(gates.gate("a")).isSameAs(a);
    assertThat(gates.gate("b")).isNotSameAs(a);
    assertThat(gates.size()).isEqualTo(2);

    gates.acquire("a");
    assertThat(gates.tryAcquire("a", Duration.ZERO)).as("a's slot is taken").isFalse();
    assertThat(gates.tryAcquire("b", Duration.ZERO)).as("b is independent").isTrue();
  }

  @Test
  void aMillionDistinctKeysKeepTheLiveGateCountBounded() throws InterruptedException {
    // One new key per microsecond, each gate busy for 1 ms: about 1000 busy gates at any time.
    KeyedRateGates<Object> gates = spacingGates(Duration.ofMillis(1));
    int maxLive = 0;
    for (int i = 0; i < 1_000_000; i++) {
      time.advance(1_000);
      gates.acquire(i);
      maxLive = Math.max(maxLive, gates.size());
    }
    assertThat(maxLive).isLessThanOrEqualTo(4 * 1024);
    assertThat(gates.evictions()).isGreaterThan(1_000_000 - 4 * 1024);
  }

  @Test
  void aMillionDistinctKeysOnTheRealClockStayBoundedToo() throws InterruptedException {
    KeyedRateGates<Object> gates =
        KeyedRateGates.create(key -> RateGate.perSecond(10_000, 1)); // busy for 100 µs after use
    int maxLive = 0;
    for (int i = 0; i < 1_000_000; i++) {
      gates.acquire(i);
      maxLive = Math.max(maxLive, gates.size());
    }
    // Bounded by the keys used within their gates' last 100 µs (times two), never a million.
    assertThat(maxLive).isLessThan(100_000);
  }

  @Test
  void busyGatesAreNotEvicted() throws InterruptedException {
    KeyedRateGates<Object> gates = spacingGates(Duration.ofSeconds(1));
    gates.acquire("a");
    assertThat(gates.evictIdle()).isZero();
    time.advance(Duration.ofMillis(999));
    assertThat(gates.evictIdle()).isZero();
    time.advance(Duration.ofMillis(1));
    assertThat(gates.evictIdle()).isEqualTo(1);
    assertThat(gates.size()).isZero();
  }

  @Test
  void anEvictedGateStillWorksAndForwardsToTheLiveOne() throws InterruptedException {
    KeyedRateGates<Object> gates = spacingGates(Duration.ofSeconds(1));
    RateGate old = gates.gate("a");
    old.acquire();
    time.advance(Duration.ofSeconds(2));
    assertThat(gates.evictIdle()).isEqualTo(1);

    assertThat(old.tryAcquire()).isTrue(); // goes to a new live gate for "a"
    RateGate live = gates.gate("a");
    assertThat(live).isNotSameAs(old);
    assertThat(live.tryAcquire()).as("the permit above was taken from the live gate").isFalse();
    assertThat(old.tryAcquire()).isFalse();
    assertThat(gates.size()).isEqualTo(1);
  }

  @Test
  void evictionRacingWithUseNeverBreaksThePerKeyBound() throws Exception {
    long interval = Duration.ofMillis(10).toNanos();
    KeyedRateGates<Integer> gates =
        KeyedRateGates.<Integer>builder(
                key -> RateGate.builder().spacing(Duration.ofNanos(interval)).ticker(time).sleeper(time).build())
            .sweepThreshold(1) // sweep on every new gate
            .build();
    int threads = 6;
    int keys = 4;
    Map<Integer, ConcurrentLinkedQueue<Long>> grants = new ConcurrentHashMap<>();
    for (int k = 0; k < keys; k++) {
      grants.put(k, new ConcurrentLinkedQueue<>());
    }
    List<RateGate> held = new ArrayList<>(); // old gates some threads keep using
    for (int k = 0; k < keys; k++) {
      held.add(gates.gate(k));
    }
    CyclicBarrier start = new CyclicBarrier(threads + 1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      SplittableRandom random = new SplittableRandom(t);
      workers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      start.await();
                      for (int i = 0; i < 2_000; i++) {
                        int key = random.nextInt(keys);
                        RateGate gate = random.nextBoolean() ? held.get(key) : gates.gate(key);
                        long grant = TokenBucketGate.coreOf(gate).acquireAt(random.nextLong(2 * interval));
                        if (grant != TokenBucketGate.REFUSED) {
                          grants.get(key).add(grant);
                        }
                        if (random.nextInt(3) == 0) {
                          time.advance(random.nextLong(3 * interval));
                        }
                      }
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  }));
    }
    Thread sweeper =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    start.await();
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                  while (workers.stream().anyMatch(Thread::isAlive)) {
                    gates.evictIdle();
                    Thread.onSpinWait();
                  }
                });
    for (Thread w : workers) {
      w.join();
    }
    sweeper.join();
    assertThat(gates.evictions()).as("evictions actually raced with use").isPositive();
    for (int k = 0; k < keys; k++) {
      long[] times = grants.get(k).stream().mapToLong(Long::longValue).toArray();
      assertThat(times).isNotEmpty();
      Windows.assertWithinBoundForInterval(times, interval, 1);
    }
  }

  @Test
  void anAdaptiveGateIsKeptWhileItRemembersThrottling() throws InterruptedException {
    KeyedRateGates<Object> gates =
        KeyedRateGates.create(
            key ->
                AdaptiveRateGate.builder()
                    .floor(1)
                    .ceiling(100)
                    .initialRate(10)
                    .increasePerSecond(10)
                    .ticker(time)
                    .sleeper(time)
                    .build());
    AdaptiveRateGate gate = (AdaptiveRateGate) gates.gate("a");
    gate.onThrottle();
    assertThat(gate.rate()).isEqualTo(5);
    time.advance(Duration.ofHours(1));
    assertThat(gates.evictIdle()).as("it learned a lower rate").isZero();
    while (gate.rate() < 10) {
      gate.onSuccess();
    }
    assertThat(gates.evictIdle()).isEqualTo(1);
  }

  @Test
  void unlimitedGatesAreNotStored() {
    KeyedRateGates<String> gates =
        KeyedRateGates.create(key -> key.startsWith("free") ? RateGate.unlimited() : RateGate.perSecond(1, 1));
    assertThat(gates.gate("free-1")).isSameAs(RateGate.unlimited());
    assertThat(gates.size()).isZero();
    gates.gate("paid");
    assertThat(gates.size()).isEqualTo(1);
  }

  @Test
  void theFactoryMustMakeANewGateOfOurOwnPerKey() {
    RateGate shared = RateGate.perSecond(1, 1);
    KeyedRateGates<String> sharing = KeyedRateGates.create(key -> shared);
    sharing.gate("a");
    assertThatThrownBy(() -> sharing.gate("b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("the gate factory must return a new gate for each key");

    RateGate foreign =
        new RateGate() {
          @Override
          public void acquire() {}

          @Override
          public boolean tryAcquire(Duration timeout) {
            return true;
          }

          @Override
          public boolean tryAcquire() {
            return true;
          }
        };
    assertThatThrownBy(() -> KeyedRateGates.create(key -> foreign).gate("a"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("KeyedRateGates manages gates made by RateGate.spacing");
    assertThatThrownBy(() -> KeyedRateGates.create(key -> null).gate("a"))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("the gate factory returned null");
    assertThatThrownBy(() -> KeyedRateGates.builder(k -> shared).sweepThreshold(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("sweepThreshold must be at least 1, was 0");
  }

  @Test
  void publishesLiveGatesAndEvictions() throws InterruptedException {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    KeyedRateGates<Object> gates =
        KeyedRateGates.builder(
                key -> RateGate.builder().spacing(Duration.ofSeconds(1)).ticker(time).sleeper(time).build())
            .name("aws")
            .meterRegistry(registry)
            .build();
    gates.acquire("a");
    gates.acquire("b");
    assertThat(registry.get("fanout.rate.keyed.gates").tag("name", "aws").gauge().value())
        .isEqualTo(2);
    time.advance(Duration.ofSeconds(1));
    gates.evictIdle();
    assertThat(registry.get("fanout.rate.keyed.gates").tag("name", "aws").gauge().value()).isZero();
    assertThat(
            registry.get("fanout.rate.keyed.evictions").tag("name", "aws").functionCounter().count())
        .isEqualTo(2);
  }
}
