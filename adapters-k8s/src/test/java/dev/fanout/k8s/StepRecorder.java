package dev.fanout.k8s;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Simulated step implementations that record every execution: who ran, when (nanoTime), how it
 * ended. The test's stand-in for the cloud calls.
 */
final class StepRecorder {

  /** One execution (attempt) of one step for one namespace. */
  record Execution(
      String owner,
      String namespace,
      String step,
      int attempt,
      long startNanos,
      long endNanos,
      String outcome) {}

  final Queue<Execution> executions = new ConcurrentLinkedQueue<>();

  /** Executions started so far, of any namespace and step: only ever grows. */
  final AtomicInteger started = new AtomicInteger();

  final AtomicInteger running = new AtomicInteger();
  final AtomicInteger interrupted = new AtomicInteger();
  private final Map<String, AtomicInteger> starts = new ConcurrentHashMap<>();
  private final String owner;

  StepRecorder() {
    this("watcher");
  }

  StepRecorder(String owner) {
    this.owner = owner;
  }

  /** A step that takes {@code latency} (interruptibly) and succeeds. */
  StepAction sleeping(Duration latency) {
    return ctx -> record(ctx, () -> Thread.sleep(latency));
  }

  /**
   * A step that blocks (interruptibly) for an hour for namespaces matching {@code hangs} (and
   * adds them to {@code hanging}), else takes {@code latency}.
   */
  StepAction sleepingOrHanging(Duration latency, Predicate<String> hangs, Queue<String> hanging) {
    return ctx ->
        record(
            ctx,
            () -> {
              if (hangs.test(ctx.namespace())) {
                hanging.add(ctx.namespace());
                Thread.sleep(Duration.ofHours(1));
              } else {
                Thread.sleep(latency);
              }
            });
  }

  /** A step that waits (interruptibly) for {@code gate} to open, then takes {@code latency}. */
  StepAction gated(CountDownLatch gate, Duration latency) {
    return ctx ->
        record(
            ctx,
            () -> {
              gate.await();
              Thread.sleep(latency);
            });
  }

  /**
   * A step that counts {@code meeting} down (on its first attempt only), then waits
   * (interruptibly, up to {@code patience}) for it to reach zero, and fails if it does not: steps
   * that share a latch counting their number can only all succeed if they all run at once.
   */
  StepAction meeting(CountDownLatch meeting, Duration patience) {
    return ctx ->
        record(
            ctx,
            () -> {
              if (ctx.attempt() == 1) {
                meeting.countDown();
              }
              if (!meeting.await(patience.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException(
                    ctx.step()
                        + " of "
                        + ctx.namespace()
                        + " waited "
                        + patience
                        + " for steps that never came: "
                        + meeting.getCount());
              }
            });
  }

  /** A step that fails its first {@code failures} attempts for namespaces matching {@code who}. */
  StepAction failing(int failures, Predicate<String> who, Duration latency) {
    return ctx ->
        record(
            ctx,
            () -> {
              Thread.sleep(latency);
              if (who.test(ctx.namespace()) && ctx.attempt() <= failures) {
                throw new IllegalStateException(
                    "simulated failure of "
                        + ctx.step()
                        + " for "
                        + ctx.namespace()
                        + ", attempt "
                        + ctx.attempt());
              }
            });
  }

  interface Body {
    void run() throws Exception;
  }

  void record(StepContext ctx, Body body) throws Exception {
    starts
        .computeIfAbsent(key(ctx.namespace(), ctx.step()), k -> new AtomicInteger())
        .incrementAndGet();
    started.incrementAndGet();
    running.incrementAndGet();
    long start = System.nanoTime();
    String outcome = "succeeded";
    try {
      body.run();
    } catch (InterruptedException e) {
      interrupted.incrementAndGet();
      outcome = "interrupted";
      throw e;
    } catch (Exception e) {
      outcome = "failed";
      throw e;
    } finally {
      running.decrementAndGet();
      executions.add(
          new Execution(
              owner,
              ctx.namespace(),
              ctx.step(),
              ctx.attempt(),
              start,
              System.nanoTime(),
              outcome));
    }
  }

  /** How many times {@code step} started for {@code namespace}. */
  int starts(String namespace, String step) {
    AtomicInteger n = starts.get(key(namespace, step));
    return n == null ? 0 : n.get();
  }

  /** Executions of {@code namespace}, in no particular order. */
  List<Execution> of(String namespace) {
    return executions.stream().filter(e -> e.namespace().equals(namespace)).toList();
  }

  private static String key(String namespace, String step) {
    return namespace + "/" + step;
  }
}
