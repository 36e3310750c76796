package dev.fanout;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Virtual threads that are counted: how many exist now, at most, and in all. What a thread dies
 * of is kept here rather than printed, and never reaches a default handler (such as the one
 * Awaitility installs while it waits, which would rethrow it in the test's thread).
 */
final class CountingThreadFactory implements ThreadFactory {
  private final ConcurrentLinkedQueue<Throwable> uncaught = new ConcurrentLinkedQueue<>();
  private final ThreadFactory delegate =
      Thread.ofVirtual()
          .name("counted-", 0)
          .uncaughtExceptionHandler((thread, e) -> uncaught.add(e))
          .factory();
  private final AtomicInteger live = new AtomicInteger();
  private final AtomicInteger peak = new AtomicInteger();
  private final AtomicInteger created = new AtomicInteger();
  private final ConcurrentLinkedQueue<Thread> threads = new ConcurrentLinkedQueue<>();

  @Override
  public Thread newThread(Runnable task) {
    Thread thread =
        delegate.newThread(
            () -> {
              peak.accumulateAndGet(live.incrementAndGet(), Math::max);
              try {
                task.run();
              } finally {
                live.decrementAndGet();
              }
            });
    created.incrementAndGet();
    threads.add(thread);
    return thread;
  }

  int live() {
    return live.get();
  }

  int peak() {
    return peak.get();
  }

  int created() {
    return created.get();
  }

  /** What threads of this factory died of, in the order they died. */
  List<Throwable> uncaught() {
    return List.copyOf(uncaught);
  }

  List<Thread> aliveThreads() {
    return threads.stream().filter(Thread::isAlive).toList();
  }
}
