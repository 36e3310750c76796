package dev.fanout.k8s;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;

/** Virtual threads that the test can check for leaks: every thread made is remembered. */
final class TrackingThreadFactory implements ThreadFactory {
  private final ThreadFactory delegate = Thread.ofVirtual().name("test-watcher-", 0).factory();
  private final Queue<Thread> created = new ConcurrentLinkedQueue<>();

  @Override
  public Thread newThread(Runnable task) {
    Thread thread = delegate.newThread(task);
    created.add(thread);
    return thread;
  }

  int created() {
    return created.size();
  }

  List<Thread> alive() {
    return created.stream().filter(Thread::isAlive).toList();
  }
}
