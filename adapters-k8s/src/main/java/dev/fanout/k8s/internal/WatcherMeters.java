package dev.fanout.k8s.internal;

import dev.fanout.k8s.PlanPhase;
import dev.fanout.k8s.PlanReport;
import dev.fanout.k8s.StepStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * A namespace watcher's meters, all tagged {@code name=<watcher name>}:
 *
 * <ul>
 *   <li>{@code fanout.k8s.namespaces.inflight} (gauge): namespaces being processed or queued;
 *   <li>{@code fanout.k8s.leader} (gauge): 1 while this replica provisions, else 0;
 *   <li>{@code fanout.k8s.plans} (counter) tagged {@code plan}, {@code phase=creation|deletion},
 *       {@code status=succeeded|failed|cancelled};
 *   <li>{@code fanout.k8s.step.duration} (timer) tagged {@code plan}, {@code step},
 *       {@code status=succeeded|failed|timed_out|cancelled}, for steps that ran;
 *   <li>{@code fanout.k8s.steps.not.run} (counter) tagged {@code plan}, {@code step},
 *       {@code status=skipped|cancelled}, for steps that never started.
 * </ul>
 *
 * Removed from the registry when the watcher closes.
 */
public final class WatcherMeters {
  private final MeterRegistry registry;
  private final Tags tags;
  private final Map<Meter.Id, Meter> meters = new ConcurrentHashMap<>();
  // Held here because Micrometer keeps only weak references to a gauge's state: a lambda passed
  // straight to a gauge is garbage, and the gauge then reads NaN.
  private final IntSupplier inFlight;
  private final BooleanSupplier leader;

  public WatcherMeters(
      MeterRegistry registry, String watcher, IntSupplier inFlight, BooleanSupplier leader) {
    this.registry = registry;
    this.inFlight = inFlight;
    this.leader = leader;
    this.tags = Tags.of("name", watcher);
    keep(
        Gauge.builder("fanout.k8s.namespaces.inflight", inFlight, s -> s.getAsInt())
            .description("Namespaces being processed or waiting for a worker")
            .tags(tags)
            .register(registry));
    keep(
        Gauge.builder("fanout.k8s.leader", leader, s -> s.getAsBoolean() ? 1 : 0)
            .description("1 while this replica provisions namespaces")
            .tags(tags)
            .register(registry));
  }

  public void planEnded(PlanPhase phase, PlanReport report) {
    keep(Counter.builder("fanout.k8s.plans")
            .description("Plan runs ended")
            .tags(tags)
            .tags(
                "plan", report.plan(),
                "phase", lower(phase.name()),
                "status", lower(report.status().name()))
            .register(registry))
        .increment();
  }

  public void stepEnded(String plan, String step, StepStatus status, long nanos) {
    Tags stepTags = tags.and("plan", plan, "step", step, "status", lower(status.name()));
    if (nanos == 0 && (status == StepStatus.SKIPPED || status == StepStatus.CANCELLED)) {
      keep(Counter.builder("fanout.k8s.steps.not.run")
              .description("Steps skipped after a failed dependency or cancelled before start")
              .tags(stepTags)
              .register(registry))
          .increment();
      return;
    }
    keep(Timer.builder("fanout.k8s.step.duration")
            .description("Time a step ran, retries included")
            .tags(stepTags)
            .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  public void remove() {
    meters.values().forEach(registry::remove);
    meters.clear();
  }

  private <M extends Meter> M keep(M meter) {
    meters.putIfAbsent(meter.getId(), meter);
    return meter;
  }

  private static String lower(String name) {
    return name.toLowerCase(Locale.ROOT);
  }
}
