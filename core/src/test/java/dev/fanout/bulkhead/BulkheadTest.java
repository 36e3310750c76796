package dev.fanout.bulkhead;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class BulkheadTest {

  @Test
  void ofRefusesAtOnceWhenFull() throws Exception {
    Bulkhead bulkhead = Bulkhead.of(2);
    assertThat(bulkhead.maxConcurrent()).isEqualTo(2);
    assertThat(bulkhead.maxWait()).isEqualTo(Duration.ZERO);
    assertThat(bulkhead.name()).isEqualTo("default");
    assertThat(bulkhead.tryAcquire()).isTrue();
    bulkhead.acquire();
    assertThat(bulkhead.available()).isZero();
    assertThat(bulkhead.tryAcquire()).isFalse();
    assertThatThrownBy(bulkhead::acquire)
        .isInstanceOfSatisfying(
            BulkheadFullException.class,
            e -> {
              assertThat(e.name()).isEqualTo("default");
              assertThat(e.maxConcurrent()).isEqualTo(2);
              assertThat(e.getStackTrace()).isEmpty();
              assertThat(e).hasMessage("bulkhead 'default' is full: all 2 permits were taken");
            });
    bulkhead.release();
    assertThat(bulkhead.available()).isEqualTo(1);
    bulkhead.release();
    assertThat(bulkhead.available()).isEqualTo(2);
  }

  @Test
  void callHoldsAPermitOnlyWhileTheTaskRunsHoweverItEnds() throws Exception {
    Bulkhead bulkhead = Bulkhead.of(1);
    assertThat(bulkhead.<Integer>call(() -> bulkhead.available())).isZero();
    IOException failure = new IOException("down");
    assertThatThrownBy(() -> bulkhead.call(() -> {
          throw failure;
        }))
        .isSameAs(failure);
    assertThat(bulkhead.available()).isEqualTo(1);
    bulkhead.acquire();
    assertThatThrownBy(() -> bulkhead.call(() -> "never")).isInstanceOf(BulkheadFullException.class);
    bulkhead.release();
    assertThat(bulkhead.available()).isEqualTo(1);
  }

  @Test
  void releaseWithoutAcquireThrowsInsteadOfRaisingTheBound() throws Exception {
    Bulkhead bulkhead = Bulkhead.builder().name("db").maxConcurrent(1).build();
    assertThatThrownBy(bulkhead::release)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("bulkhead 'db': release() without a matching acquire()");
    assertThat(bulkhead.available()).isEqualTo(1);
    bulkhead.acquire();
    bulkhead.release();
    assertThatThrownBy(bulkhead::release).isInstanceOf(IllegalStateException.class);
    assertThat(bulkhead.available()).isEqualTo(1);
  }

  @Test
  void waitersAreServedInArrivalOrderAndANewcomerDoesNotOvertakeThem() throws Exception {
    Bulkhead bulkhead = Bulkhead.builder().maxConcurrent(1).maxWait(Duration.ofMinutes(1)).build();
    bulkhead.acquire();
    ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
    CountDownLatch hold = new CountDownLatch(1);
    Thread first = waiter(bulkhead, "first", order, hold);
    await().until(() -> first.getState() == Thread.State.TIMED_WAITING);
    Thread second = waiter(bulkhead, "second", order, hold);
    await().until(() -> second.getState() == Thread.State.TIMED_WAITING);

    bulkhead.release();
    // The free permit is the first waiter's, whether or not it has woken up to take it yet.
    assertThat(bulkhead.tryAcquire()).isFalse();
    hold.countDown();
    first.join();
    second.join();
    assertThat(order).containsExactly("first", "second");
    assertThat(bulkhead.available()).isEqualTo(1);
  }

  private static Thread waiter(
      Bulkhead bulkhead, String name, ConcurrentLinkedQueue<String> order, CountDownLatch hold) {
    return Thread.ofPlatform()
        .name(name)
        .start(
            () -> {
              try {
                bulkhead.acquire();
                order.add(name);
                hold.await();
                bulkhead.release();
              } catch (InterruptedException e) {
                order.add(name + " interrupted");
              }
            });
  }

  @Test
  void aWaiterInterruptedTakesNothing() throws Exception {
    Bulkhead bulkhead = Bulkhead.builder().maxConcurrent(1).maxWait(Duration.ofMinutes(1)).build();
    bulkhead.acquire();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread waiter =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    bulkhead.acquire();
                  } catch (Throwable e) {
                    thrown.set(e);
                  }
                });
    await().until(() -> waiter.getState() == Thread.State.TIMED_WAITING);
    waiter.interrupt();
    waiter.join();
    assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
    bulkhead.release();
    assertThat(bulkhead.available()).isEqualTo(1);
    assertThatThrownBy(bulkhead::release).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void acquireOnAnInterruptedThreadThrowsAndTryAcquireKeepsTheStatus() throws Exception {
    Bulkhead bulkhead = Bulkhead.of(1);
    Thread.currentThread().interrupt();
    assertThatThrownBy(bulkhead::acquire).isInstanceOf(InterruptedException.class);
    assertThat(Thread.interrupted()).isFalse(); // cleared by the throw, as Semaphore does
    assertThat(bulkhead.available()).isEqualTo(1);

    Thread.currentThread().interrupt();
    try {
      assertThat(bulkhead.tryAcquire()).isTrue();
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    bulkhead.release();
  }

  @Test
  void acquireWaitsUpToMaxWaitThenRefuses() throws Exception {
    Bulkhead bulkhead =
        Bulkhead.builder().name("ses").maxConcurrent(1).maxWait(Duration.ofMillis(50)).build();
    bulkhead.acquire();
    long start = System.nanoTime();
    assertThatThrownBy(bulkhead::acquire)
        .isInstanceOf(BulkheadFullException.class)
        .hasMessage("bulkhead 'ses' is full: all 1 permits were taken for 50ms");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(50));

    CountDownLatch waiting = new CountDownLatch(1);
    Bulkhead patient =
        Bulkhead.builder().maxConcurrent(1).maxWait(Duration.ofMinutes(1)).build();
    patient.acquire();
    Thread waiter =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    patient.acquire();
                    waiting.countDown();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    await().until(() -> waiter.getState() == Thread.State.TIMED_WAITING);
    patient.release();
    waiting.await();
    waiter.join();
    assertThat(patient.available()).isZero(); // the waiter holds it
    patient.release();
  }

  @Test
  void metersShowFreePermitsAndCountRejections() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Bulkhead bulkhead = Bulkhead.builder().name("eks").maxConcurrent(2).meterRegistry(registry).build();
    bulkhead.acquire();
    assertThat(gauge(registry, "fanout.bulkhead.available")).isEqualTo(1);
    assertThat(gauge(registry, "fanout.bulkhead.max")).isEqualTo(2);
    bulkhead.acquire();
    assertThat(bulkhead.tryAcquire()).isFalse();
    assertThatThrownBy(bulkhead::acquire).isInstanceOf(BulkheadFullException.class);
    assertThat(gauge(registry, "fanout.bulkhead.available")).isZero();
    assertThat(registry.get("fanout.bulkhead.rejections").tag("name", "eks").counter().count())
        .isEqualTo(2);
  }

  private static double gauge(SimpleMeterRegistry registry, String name) {
    return registry.get(name).tag("name", "eks").gauge().value();
  }

  @Test
  void badSettingsNameTheParameterAndTheValue() {
    assertThatThrownBy(() -> Bulkhead.of(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxConcurrent must be at least 1, was 0");
    assertThatThrownBy(() -> Bulkhead.builder().maxConcurrent(-3))
        .hasMessage("maxConcurrent must be at least 1, was -3");
    assertThatThrownBy(() -> Bulkhead.builder().maxWait(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxWait must not be negative, was PT-0.001S");
    assertThatThrownBy(() -> Bulkhead.builder().name(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name must not be blank, was ''");
    assertThatThrownBy(() -> Bulkhead.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("maxConcurrent not set: call maxConcurrent(n) before build()");
    assertThatThrownBy(() -> Bulkhead.of(1).call(null)).hasMessage("task must not be null");
  }
}
