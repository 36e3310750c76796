package dev.fanout.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * A rate gate's meters, tagged {@code name=<gate name>}: {@code fanout.rate.wait} (timer: how long
 * each permit waited, zero included) and {@code fanout.rate.timeouts} (counter: permits refused by
 * {@code tryAcquire} because they would have waited too long). Gates with the same name share
 * them.
 */
public final class GateMeters {
  private final Timer wait;
  private final Counter timeouts;

  public GateMeters(MeterRegistry registry, String name) {
    Tags tags = Tags.of("name", name);
    wait =
        Timer.builder("fanout.rate.wait")
            .description("Time a permit waited for its slot at a rate gate")
            .tags(tags)
            .register(registry);
    timeouts =
        Counter.builder("fanout.rate.timeouts")
            .description("Permits refused because their slot was further away than the timeout")
            .tags(tags)
            .register(registry);
  }

  public void waited(long nanos) {
    wait.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void timedOut() {
    timeouts.increment();
  }
}
