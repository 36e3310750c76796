package dev.fanout.lease;

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
 * The meters of one {@link ClaimWorkers}, all tagged {@code name=<workers name>}:
 *
 * <ul>
 *   <li>{@code fanout.lease.workers.active} and {@code fanout.lease.claims.held} (gauges),
 *   <li>{@code fanout.lease.items} with {@code event=claimed|completed|failed|retried|lease_lost|
 *       reclaimed|given_back|abandoned} and {@code fanout.lease.store.errors} (function counters),
 *   <li>{@code fanout.lease.handler.duration} with {@code outcome=success|failure} (timer).
 * </ul>
 *
 * Registered on start, removed on stop.
 */
final class ClaimMeters {

  private final MeterRegistry registry;
  private final List<Meter> meters = new ArrayList<>();
  private final Timer success;
  private final Timer failure;

  ClaimMeters(MeterRegistry registry, String name, ClaimWorkers<?> source) {
    this.registry = registry;
    Tags tags = Tags.of("name", name);
    gauge(
        "fanout.lease.workers.active",
        "Workers working on claimed items now",
        tags,
        source,
        w -> w.status().activeWorkers());
    gauge(
        "fanout.lease.claims.held",
        "Claims held and not yet settled",
        tags,
        source,
        w -> w.status().held());
    counter("claimed", tags, source, w -> w.status().claimed());
    counter("completed", tags, source, w -> w.status().completed());
    counter("failed", tags, source, w -> w.status().failed());
    counter("retried", tags, source, w -> w.status().retried());
    counter("lease_lost", tags, source, w -> w.status().leaseLost());
    counter("reclaimed", tags, source, w -> w.status().reclaimed());
    counter("given_back", tags, source, w -> w.status().givenBack());
    counter("abandoned", tags, source, w -> w.status().abandoned());
    meters.add(
        FunctionCounter.builder("fanout.lease.store.errors", source, w -> w.storeErrors())
            .description("Calls to the claim-lease store that failed")
            .tags(tags)
            .register(registry));
    success = timer(tags.and("outcome", "success"));
    failure = timer(tags.and("outcome", "failure"));
  }

  private void gauge(
      String name,
      String description,
      Tags tags,
      ClaimWorkers<?> source,
      ToDoubleFunction<ClaimWorkers<?>> f) {
    meters.add(
        Gauge.builder(name, source, f).description(description).tags(tags).register(registry));
  }

  private void counter(
      String event, Tags tags, ClaimWorkers<?> source, ToDoubleFunction<ClaimWorkers<?>> f) {
    meters.add(
        FunctionCounter.builder("fanout.lease.items", source, f)
            .description("Claimed items by what happened to them")
            .tags(tags.and("event", event))
            .register(registry));
  }

  private Timer timer(Tags tags) {
    Timer timer =
        Timer.builder("fanout.lease.handler.duration")
            .description("Time the handler took for one item")
            .tags(tags)
            .register(registry);
    meters.add(timer);
    return timer;
  }

  void recordHandler(long nanos, boolean succeeded) {
    (succeeded ? success : failure).record(nanos, TimeUnit.NANOSECONDS);
  }

  void remove() {
    meters.forEach(registry::remove);
  }
}
