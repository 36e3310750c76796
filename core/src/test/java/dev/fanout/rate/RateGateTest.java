package dev.fanout.rate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fanout.time.FakeTime;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class RateGateTest {
  private final FakeTime time = FakeTime.autoAdvancing();

  private RateGate.Builder onFakeTime() {
    return RateGate.builder().ticker(time).sleeper(time);
  }

  /** Times (relative to the start) at which {@code n} back-to-back acquisitions pass. */
  private List<Duration> passTimes(RateGate gate, int n) throws InterruptedException {
    long start = time.read();
    List<Duration> times = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      gate.acquire();
      times.add(Duration.ofNanos(time.read() - start));
    }
    return times;
  }

  @Test
  void perSecondStartsFullThenRefillsAtItsRate() throws InterruptedException {
    RateGate gate = onFakeTime().perSecond(10, 3).build();
    assertThat(passTimes(gate, 6))
        .containsExactly(
            Duration.ZERO,
            Duration.ZERO,
            Duration.ZERO,
            Duration.ofMillis(100),
            Duration.ofMillis(200),
            Duration.ofMillis(300));
  }

  @Test
  void idleTimeRefillsUpToTheBurstOnly() throws InterruptedException {
    RateGate gate = onFakeTime().perSecond(10, 2).build();
    passTimes(gate, 2);
    time.advance(Duration.ofSeconds(10));
    assertThat(passTimes(gate, 4))
        .containsExactly(
            Duration.ZERO, Duration.ZERO, Duration.ofMillis(100), Duration.ofMillis(200));
  }

  @Test
  void spacingLetsOnePermitThroughPerInterval() throws InterruptedException {
    RateGate gate = onFakeTime().spacing(Duration.ofMillis(100)).build();
    assertThat(passTimes(gate, 3))
        .containsExactly(Duration.ZERO, Duration.ofMillis(100), Duration.ofMillis(200));
    time.advance(Duration.ofSeconds(5));
    assertThat(passTimes(gate, 2)).containsExactly(Duration.ZERO, Duration.ofMillis(100));
  }

  @Test
  void tryAcquireNowNeverWaitsAndARefusalTakesNothing() throws InterruptedException {
    RateGate gate = onFakeTime().spacing(Duration.ofSeconds(1)).build();
    assertThat(gate.tryAcquire()).isTrue();
    assertThat(gate.tryAcquire()).isFalse();
    assertThat(gate.tryAcquire()).isFalse();
    time.advance(Duration.ofSeconds(1));
    assertThat(gate.tryAcquire()).isTrue();
    assertThat(time.sleeps()).isEmpty();
  }

  @Test
  void tryAcquireWithATimeoutReservesOnlyASlotWithinIt() throws InterruptedException {
    RateGate gate = onFakeTime().spacing(Duration.ofMillis(100)).build();
    gate.acquire();
    assertThat(gate.tryAcquire(Duration.ofMillis(99))).isFalse();
    assertThat(time.sleeps()).isEmpty();
    assertThat(gate.tryAcquire(Duration.ofMillis(100))).isTrue();
    assertThat(time.waits()).containsExactly(Duration.ofMillis(100));
    assertThat(gate.tryAcquire(Duration.ofDays(365_000))).isTrue();
  }

  @Test
  void unlimitedNeverWaits() throws InterruptedException {
    assertThat(RateGate.spacing(Duration.ZERO)).isSameAs(RateGate.unlimited());
    RateGate gate = RateGate.unlimited();
    for (int i = 0; i < 1000; i++) {
      gate.acquire();
      assertThat(gate.tryAcquire()).isTrue();
      assertThat(gate.tryAcquire(Duration.ZERO)).isTrue();
    }
  }

  @Test
  void anInterruptedWaiterTakesNothing() throws Exception {
    FakeTime manual = FakeTime.manual();
    RateGate gate = RateGate.builder().spacing(Duration.ofSeconds(1)).ticker(manual).sleeper(manual).build();
    gate.acquire(); // t = 0
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread waiter = startAcquiring(gate, thrown);
    await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10)).until(() -> manual.sleepers() == 1);
    waiter.interrupt();
    waiter.join();
    assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
    assertThat(((TokenBucketGate) gate).waiting()).isZero();

    manual.advance(Duration.ofSeconds(1));
    assertThat(gate.tryAcquire()).as("the permit at t = 1 s is still free").isTrue();
    assertThat(gate.tryAcquire()).isFalse();
  }

  @Test
  void whenTheHeadOfTheLineIsInterruptedTheNextWaiterMovesUp() throws Exception {
    FakeTime manual = FakeTime.manual();
    TokenBucketGate gate =
        (TokenBucketGate) RateGate.builder().spacing(Duration.ofSeconds(1)).ticker(manual).sleeper(manual).build();
    gate.acquire(); // t = 0
    AtomicReference<Throwable> first = new AtomicReference<>();
    AtomicReference<Throwable> second = new AtomicReference<>();
    Thread a = startAcquiring(gate, first); // head of the line, asleep until t = 1 s
    await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10)).until(() -> manual.sleepers() == 1);
    Thread b = startAcquiring(gate, second); // parked behind a
    await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10)).until(() -> gate.waiting() == 2);
    a.interrupt();
    a.join();
    assertThat(first.get()).isInstanceOf(InterruptedException.class);
    await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10)).until(() -> manual.sleepers() == 1 && gate.waiting() == 1);

    manual.advance(Duration.ofSeconds(1));
    b.join(Duration.ofSeconds(10));
    assertThat(b.isAlive()).isFalse();
    assertThat(second.get()).isNull();
    assertThat(gate.tryAcquire()).as("b took the permit at t = 1 s").isFalse();
    manual.advance(Duration.ofSeconds(1));
    assertThat(gate.tryAcquire()).as("a left no hole and took nothing: t = 2 s is free").isTrue();
  }

  private static Thread startAcquiring(RateGate gate, AtomicReference<Throwable> thrown) {
    return Thread.ofVirtual()
        .start(
            () -> {
              try {
                gate.acquire();
              } catch (Throwable t) {
                thrown.set(t);
              }
            });
  }

  @Test
  void publishesWaitTimesAndTimeouts() throws InterruptedException {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RateGate gate = onFakeTime().spacing(Duration.ofMillis(100)).name("eks").meterRegistry(registry).build();
    gate.acquire();
    gate.acquire();
    assertThat(gate.tryAcquire(Duration.ofMillis(1))).isFalse();
    assertThat(gate.tryAcquire()).isFalse();
    Timer wait = registry.get("fanout.rate.wait").tag("name", "eks").timer();
    assertThat(wait.count()).isEqualTo(2);
    assertThat(wait.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(100);
    assertThat(registry.get("fanout.rate.timeouts").tag("name", "eks").counter().count())
        .isEqualTo(2);
  }

  @Test
  void describesItself() {
    assertThat(RateGate.perSecond(500, 2).toString())
        .isEqualTo("RateGate[name=default, perSecond=500.0, burst=2]");
    assertThat(RateGate.unlimited().toString()).isEqualTo("RateGate[unlimited]");
  }

  @Test
  @SuppressWarnings("DataFlowIssue")
  void rejectsBadInputWithClearMessages() {
    for (double rate : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertThatThrownBy(() -> RateGate.perSecond(rate, 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("permitsPerSecond must be positive and finite, was " + rate);
    }
    assertThatThrownBy(() -> RateGate.perSecond(1e-7, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("permitsPerSecond must be at least 1.0E-6");
    assertThatThrownBy(() -> RateGate.perSecond(10, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("burst must be at least 1, was 0");
    assertThatThrownBy(() -> RateGate.perSecond(0.001, Integer.MAX_VALUE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("burst * interval must be at most 10^18 ns");
    assertThatThrownBy(() -> RateGate.spacing(Duration.ofMillis(-100)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("interval must not be negative, was PT-0.1S");
    assertThatThrownBy(() -> RateGate.spacing(Duration.ofDays(30)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("interval must be at most");
    assertThatThrownBy(() -> RateGate.spacing(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("interval must not be null (Duration.ZERO means none)");
    assertThatThrownBy(() -> RateGate.perSecond(1, 1).tryAcquire(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("timeout must not be negative, was PT-1S");
    assertThatThrownBy(() -> RateGate.unlimited().tryAcquire(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("timeout must not be negative, was PT-1S");
    assertThatThrownBy(() -> RateGate.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("no limit set: call spacing(interval) or perSecond(rate, burst) before build()");
  }
}
