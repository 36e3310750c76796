package dev.fanout.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.function.IntSupplier;

/**
 * A bulkhead's meters, all tagged {@code name=<bulkhead name>}: {@code fanout.bulkhead.available}
 * (gauge: free permits), {@code fanout.bulkhead.max} (gauge: maxConcurrent) and {@code
 * fanout.bulkhead.rejections} (counter: acquisitions refused because it stayed full).
 */
public final class BulkheadMeters {
  private final Counter rejections;

  public BulkheadMeters(MeterRegistry registry, String name, int maxConcurrent, IntSupplier available) {
    Tags tags = Tags.of("name", name);
    Gauge.builder("fanout.bulkhead.available", available, IntSupplier::getAsInt)
        .description("Free permits of a bulkhead")
        .tags(tags)
        .strongReference(true)
        .register(registry);
    Gauge.builder("fanout.bulkhead.max", () -> maxConcurrent)
        .description("Most calls a bulkhead lets in at once")
        .tags(tags)
        .register(registry);
    rejections =
        Counter.builder("fanout.bulkhead.rejections")
            .description("Calls refused because the bulkhead was full for longer than maxWait")
            .tags(tags)
            .register(registry);
  }

  public void rejected() {
    rejections.increment();
  }
}
