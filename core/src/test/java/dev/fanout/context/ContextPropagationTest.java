package dev.fanout.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fanout.ParallelConfig;
import dev.fanout.TaskHandle;
import dev.fanout.WhileRunning;
import dev.fanout.WorkerPool;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;



/** Propagators chained, and the context a coalesced submission runs with. */
class ContextPropagationTest {

  @Test
  void aCoalescedSubmissionRunsWithTheContextOfItsNewestSubmitter() throws Exception {
    ThreadLocal<String> who = new ThreadLocal<>();
    ContextPropagator propagator =
        new ContextPropagator() {
          @Override
          public @Nullable Object capture() {
            return who.get();
          }

          @Override
          public Scope restore(@Nullable Object captured) {
            String before = who.get();
            who.set((String) captured);
            return () -> who.set(before);
          }
        };
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    try (WorkerPool pool =
        WorkerPool.builder(ParallelConfig.builder().concurrency(1).build())
            .contextPropagator(propagator)
            .build()) {
      CountDownLatch release = new CountDownLatch(1);
      pool.submit("blocker", key -> release.await(10, TimeUnit.SECONDS), WhileRunning.JOIN);
      who.set("first");
      pool.submit("k", key -> seen.add(String.valueOf(who.get())), WhileRunning.JOIN);
      who.set("second");
      TaskHandle<String, Boolean> handle =
          pool.submit("k", key -> seen.add(String.valueOf(who.get())), WhileRunning.JOIN);
      release.countDown();
      handle.result().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    assertThat(seen).as("one run, with the newest submitter's context").containsExactly("second");
  }

  @Test
  void severalPropagatorsRestoreInOrderAndCloseInReverse() {
    Queue<String> events = new ConcurrentLinkedQueue<>();
    ContextPropagator a = recording("a", events);
    ContextPropagator b = recording("b", events);
    ContextPropagator both = ContextPropagator.of(a, b);

    Object captured = both.capture();
    try (ContextPropagator.Scope scope = both.restore(captured)) {
      events.add("work");
    }

    assertThat(events)
        .containsExactly("capture a", "capture b", "restore a=A", "restore b=B", "work", "close b", "close a");
    assertThatThrownBy(() -> ContextPropagator.of(a, null))
        .isInstanceOf(NullPointerException.class);
  }

  private static ContextPropagator recording(String name, Queue<String> events) {
    return new ContextPropagator() {
      @Override
      public Object capture() {
        events.add("capture " + name);
        return name.toUpperCase();
      }

      @Override
      public Scope restore(@Nullable Object captured) {
        events.add("restore " + name + "=" + captured);
        return () -> events.add("close " + name);
      }
    };
  }
}
