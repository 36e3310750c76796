package dev.fanout.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fanout.rate.RateGate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class FakeTimeTest {

  @Test
  void autoAdvancingSleepMovesTheClockAndReturnsAtOnce() throws InterruptedException {
    FakeTime time = FakeTime.autoAdvancing();
    long start = time.read();

    time.sleep(Duration.ofSeconds(5).toNanos());
    time.sleep(0);
    time.sleep(-3);

    assertThat(time.read() - start).isEqualTo(Duration.ofSeconds(5).toNanos());
    assertThat(time.sleeps()).containsExactly(5_000_000_000L, 0L, -3L);
    assertThat(time.waits()).containsExactly(Duration.ofSeconds(5));
    assertThat(time.sleepers()).isZero();
  }

  @Test
  void clockMovesOnlyWhenTold() {
    FakeTime time = FakeTime.manual();
    long start = time.read();
    assertThat(time.read()).isEqualTo(start);

    time.advance(Duration.ofMillis(7));
    time.advance(3);

    assertThat(time.read() - start).isEqualTo(7_000_003L);
  }

  @Test
  void guideExampleRateGateWaitsOnFakeTime() throws InterruptedException {
    FakeTime time = FakeTime.autoAdvancing();
    RateGate gate =
        RateGate.builder().spacing(Duration.ofMillis(100)).ticker(time).sleeper(time).build();

    gate.acquire();
    gate.acquire(); // "sleeps" 100 ms of fake time, returns at once

    assertThat(time.waits()).containsExactly(Duration.ofMillis(100));
  }

  @Test
  void manualSleeperBlocksUntilTheClockReachesItsEnd() throws Exception {
    FakeTime time = FakeTime.manual();
    try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<?> sleeper = executor.submit(() -> {
        time.sleep(Duration.ofSeconds(1).toNanos());
        return null;
      });
      await().until(() -> time.sleepers() == 1);

      time.advance(Duration.ofMillis(999));
      assertThat(sleeper).isNotDone();
      assertThat(time.sleepers()).isEqualTo(1);

      time.advance(Duration.ofMillis(1));
      sleeper.get(10, TimeUnit.SECONDS);
      assertThat(time.sleepers()).isZero();
    }
  }

  @Test
  void advanceWakesExactlyTheSleepersWhoseTimeHasCome() throws Exception {
    FakeTime time = FakeTime.manual();
    int threads = 50;
    AtomicInteger woken = new AtomicInteger();
    try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 1; i <= threads; i++) {
        long nanos = i;
        futures.add(executor.submit(() -> {
          time.sleep(nanos);
          woken.incrementAndGet();
          return null;
        }));
      }
      await().until(() -> time.sleepers() == threads);

      time.advance(20);
      await().until(() -> woken.get() == 20);
      assertThat(time.sleepers()).isEqualTo(threads - 20);

      time.advance(30);
      for (Future<?> f : futures) {
        f.get(10, TimeUnit.SECONDS);
      }
      assertThat(woken).hasValue(threads);
      assertThat(time.sleeps()).hasSize(threads);
    }
  }

  @Test
  void concurrentAutoAdvancingSleepsAddUpExactly() throws Exception {
    FakeTime time = FakeTime.autoAdvancing();
    long start = time.read();
    int threads = 16;
    int sleepsEach = 1_000;
    CountDownLatch go = new CountDownLatch(1);
    try (ExecutorService executor = Executors.newFixedThreadPool(threads)) {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(executor.submit(() -> {
          go.await();
          for (int i = 0; i < sleepsEach; i++) {
            time.sleep(3);
          }
          return null;
        }));
      }
      go.countDown();
      for (Future<?> f : futures) {
        f.get(30, TimeUnit.SECONDS);
      }
    }
    assertThat(time.read() - start).isEqualTo(3L * threads * sleepsEach);
    assertThat(time.sleeps()).hasSize(threads * sleepsEach);
  }

  @Test
  void sleepInAnInterruptedThreadThrowsAndClearsTheStatus() {
    FakeTime time = FakeTime.autoAdvancing();
    long before = time.read();
    Thread.currentThread().interrupt();

    assertThatThrownBy(() -> time.sleep(10)).isInstanceOf(InterruptedException.class);

    assertThat(Thread.currentThread().isInterrupted()).isFalse();
    assertThat(time.read()).isEqualTo(before);
  }

  @Test
  void interruptedManualSleepThrowsInterruptedException() throws Exception {
    FakeTime time = FakeTime.manual();
    CountDownLatch outcome = new CountDownLatch(1);
    AtomicInteger interruptedAndCleared = new AtomicInteger();
    Thread sleeper = Thread.ofVirtual().start(() -> {
      try {
        time.sleep(Duration.ofHours(1).toNanos());
      } catch (InterruptedException expected) {
        if (!Thread.currentThread().isInterrupted()) {
          interruptedAndCleared.incrementAndGet();
        }
      }
      outcome.countDown();
    });
    await().until(() -> time.sleepers() == 1);

    sleeper.interrupt();

    assertThat(outcome.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(interruptedAndCleared).hasValue(1);
    assertThat(time.sleepers()).isZero();
  }

  @Test
  void clockSaturatesInsteadOfWrappingBackwards() throws InterruptedException {
    FakeTime time = FakeTime.autoAdvancing();

    time.sleep(Long.MAX_VALUE);
    assertThat(time.read()).isEqualTo(Long.MAX_VALUE);

    time.advance(Duration.ofSeconds(Long.MAX_VALUE));
    time.advance(1);
    assertThat(time.read()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void negativeAdvanceIsRejectedNamingTheValue() {
    FakeTime time = FakeTime.manual();

    assertThatThrownBy(() -> time.advance(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nanos")
        .hasMessageContaining("-1");
    assertThatThrownBy(() -> time.advance(Duration.ofMillis(-5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("duration")
        .hasMessageContaining("PT-0.005S");
    assertThatThrownBy(() -> time.advance(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("duration");
  }
}
