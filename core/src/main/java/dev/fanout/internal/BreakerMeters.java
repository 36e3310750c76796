package dev.fanout.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * A circuit breaker's meters, all tagged {@code name=<breaker name>}:
 *
 * <ul>
 *   <li>{@code fanout.breaker.state} (gauge) with {@code state=closed|open|half_open}: 1 for the
 *       current state, 0 for the others;
 *   <li>{@code fanout.breaker.calls} (counter) with {@code
 *       outcome=success|failure|ignored|not_permitted|released};
 *   <li>{@code fanout.breaker.transitions} (counter) with {@code to=closed|open|half_open}.
 * </ul>
 */
public final class BreakerMeters {
  /** Index of each outcome in {@link #calls}. */
  public static final int SUCCESS = 0, FAILURE = 1, IGNORED = 2, NOT_PERMITTED = 3, RELEASED = 4;

  private static final String[] OUTCOMES = {
    "success", "failure", "ignored", "not_permitted", "released"
  };

  private final Counter[] calls = new Counter[OUTCOMES.length];
  private final Counter[] transitions;

  /**
   * @param states the breaker's states, in order (lower-cased for the tag)
   * @param current the breaker's current state, read by the state gauge
   */
  public <S extends Enum<S>> BreakerMeters(
      MeterRegistry registry, String name, S[] states, Supplier<S> current) {
    Tags tags = Tags.of("name", name);
    for (int i = 0; i < OUTCOMES.length; i++) {
      calls[i] =
          Counter.builder("fanout.breaker.calls")
              .description("Calls through a circuit breaker, by how they ended")
              .tags(tags.and("outcome", OUTCOMES[i]))
              .register(registry);
    }
    transitions = new Counter[states.length];
    for (S state : states) {
      String tag = state.name().toLowerCase(Locale.ROOT);
      Gauge.builder("fanout.breaker.state", current, c -> c.get() == state ? 1 : 0)
          .description("1 for the circuit breaker's current state, 0 for the others")
          .tags(tags.and("state", tag))
          .strongReference(true)
          .register(registry);
      transitions[state.ordinal()] =
          Counter.builder("fanout.breaker.transitions")
              .description("State transitions of a circuit breaker, by the state entered")
              .tags(tags.and("to", tag))
              .register(registry);
    }
  }

  /** Counts one call with the outcome at {@code index} ({@link #SUCCESS} ...). */
  public void call(int index) {
    calls[index].increment();
  }

  /** Counts one transition into {@code to}. */
  public void transition(Enum<?> to) {
    transitions[to.ordinal()].increment();
  }
}
