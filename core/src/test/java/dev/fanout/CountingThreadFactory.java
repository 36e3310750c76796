package dev.fanout;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Virtual threads that are counted: how many exist now, at most, and in all. */
final class CountingThreadFactory implements ThreadFactory {
  private final ThreadFactory delegate = Thread.ofVirtual().name("counted-", 0).factory();
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

  List<Thread> aliveThreads() {
    return threads.stream().filter(Thread::isAlive).toList();
  }
}
