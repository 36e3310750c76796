package dev.fanout.internal;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * A worker pool's meters, all tagged {@code name=<pool name>}:
 *
 * <ul>
 *   <li>{@code fanout.pool.active} and {@code fanout.pool.queued} (gauges),
 *   <li>{@code fanout.pool.tasks} with {@code outcome=completed|failed} and
 *       {@code fanout.pool.retries} (function counters),
 *   <li>{@code fanout.pool.task.duration} with {@code outcome=success|failure} (timer).
 * </ul>
 *
 * Removed from the registry when the pool closes.
 */
public final class PoolMeters {

  /** What the meters read; the pool implements it. */
  public interface Source {
    int activeCount();

    int queuedCount();

    long completedCount();

    long failedCount();

    long retriedCount();
  }

  private final MeterRegistry registry;
  /** Held here because Micrometer keeps only weak references to a gauge's state. */
  private final Source source;
  private final List<Meter> meters = new ArrayList<>();
  private final Timer success;
  private final Timer failure;

  public PoolMeters(MeterRegistry registry, String poolName, Source source) {
    this.registry = registry;
    this.source = source;
    Tags tags = Tags.of("name", poolName);
    gauge("fanout.pool.active", "Tasks running now", tags, source, s -> s.activeCount());
    gauge("fanout.pool.queued", "Tasks waiting for a worker", tags, source, s -> s.queuedCount());
    meters.add(
        FunctionCounter.builder("fanout.pool.tasks", source, s -> s.completedCount())
            .description("Tasks ended")
            .tags(tags.and("outcome", "completed"))
            .register(registry));
    meters.add(
        FunctionCounter.builder("fanout.pool.tasks", source, s -> s.failedCount())
            .description("Tasks ended")
            .tags(tags.and("outcome", "failed"))
            .register(registry));
    meters.add(
        FunctionCounter.builder("fanout.pool.retries", source, s -> s.retriedCount())
            .description("Retry attempts made")
            .tags(tags)
            .register(registry));
    success = timer(tags.and("outcome", "success"));
    failure = timer(tags.and("outcome", "failure"));
  }

  private void gauge(
      String name, String description, Tags tags, Source source, ToDoubleFunction<Source> f) {
    meters.add(Gauge.builder(name, source, f).description(description).tags(tags).register(registry));
  }

  private Timer timer(Tags tags) {
    Timer timer =
        Timer.builder("fanout.pool.task.duration")
            .description("Time from a task's first start to its end")
            .tags(tags)
            .register(registry);
    meters.add(timer);
    return timer;
  }

  public void recordTask(long nanos, boolean succeeded) {
    (succeeded ? success : failure).record(nanos, TimeUnit.NANOSECONDS);
  }

  public void remove() {
    meters.forEach(registry::remove);
  }
}
