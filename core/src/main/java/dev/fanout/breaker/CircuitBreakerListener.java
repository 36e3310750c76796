package dev.fanout.breaker;

import java.util.Objects;
import org.slf4j.Logger;

/**
 * Told of each state transition of a {@link CircuitBreaker}, once per transition and in the order
 * the transitions happened, one at a time. It runs on a thread that called the breaker (the one
 * that caused the transition, or one that came after it while an earlier notice was being
 * delivered), never under the breaker's lock. Keep it quick; exceptions it throws are logged and
 * otherwise ignored.
 *
 * {@snippet :
 * CircuitBreaker breaker = CircuitBreaker.builder()
 *     .name("eks")
 *     .listener((b, from, to) -> alerts.breakerChanged(b.name(), to))
 *     .build();
 * }
 */
@FunctionalInterface
public interface CircuitBreakerListener {

  /** {@code breaker} went from {@code from} to {@code to}. */
  void onStateChange(CircuitBreaker breaker, CircuitBreaker.State from, CircuitBreaker.State to);

  /**
   * A listener that logs each transition: to {@code OPEN} at WARN, the others at INFO, as
   * {@code Circuit breaker 'eks': CLOSED -> OPEN}.
   */
  static CircuitBreakerListener logging(Logger logger) {
    Objects.requireNonNull(logger, "logger must not be null");
    return (breaker, from, to) -> {
      if (to == CircuitBreaker.State.OPEN) {
        logger.warn("Circuit breaker '{}': {} -> {}", breaker.name(), from, to);
      } else {
        logger.info("Circuit breaker '{}': {} -> {}", breaker.name(), from, to);
      }
    };
  }
}
