package dev.fanout.k8s.internal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** A watcher's cumulative counters, shared by all its leadership terms. */
public final class WatcherCounters {
  public final LongAdder provisioned = new LongAdder();
  public final LongAdder alreadyProvisioned = new LongAdder();
  public final LongAdder failed = new LongAdder();
  public final LongAdder cancelled = new LongAdder();
  public final LongAdder deleted = new LongAdder();
  public final LongAdder deletionFailed = new LongAdder();

  /** Namespaces whose creation plan succeeded and whose mark is being retried now. */
  public final AtomicInteger markPending = new AtomicInteger();
}
