package dev.fanout.breaker;

import dev.fanout.internal.Durations;
import dev.fanout.retry.RetryAfter;
import java.io.Serial;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Thrown by {@link CircuitBreaker#call} instead of running the task: the breaker is open, or
 * half-open with all its trial calls taken. The task was not called.
 *
 * <p>While a breaker is open every call is refused this way, so the exception carries no stack
 * trace.
 */
public final class CallNotPermittedException extends RuntimeException implements RetryAfter {
  @Serial private static final long serialVersionUID = 1L;

  private final String name;
  private final CircuitBreaker.State state;
  private final transient Duration retryAfter;

  /**
   * @param name the breaker's name
   * @param state the breaker's state when it refused: {@code OPEN} or {@code HALF_OPEN}
   * @param retryAfter how long the breaker stays open; {@link Duration#ZERO} in half-open
   * @throws IllegalArgumentException if {@code retryAfter} is negative
   */
  public CallNotPermittedException(String name, CircuitBreaker.State state, Duration retryAfter) {
    super(message(name, state, retryAfter), null, true, false);
    this.name = name;
    this.state = state;
    this.retryAfter = retryAfter;
  }

  private static String message(String name, CircuitBreaker.State state, Duration retryAfter) {
    Objects.requireNonNull(name, "name must not be null");
    Objects.requireNonNull(state, "state must not be null");
    Objects.requireNonNull(retryAfter, "retryAfter must not be null");
    if (retryAfter.isNegative()) {
      throw new IllegalArgumentException("retryAfter must not be negative, was " + retryAfter);
    }
    return switch (state) {
      case OPEN ->
          "circuit breaker '"
              + name
              + "' is OPEN: calls are permitted again in "
              + Durations.format(retryAfter);
      case HALF_OPEN -> "circuit breaker '" + name + "' is HALF_OPEN: all trial calls are taken";
      case CLOSED -> "circuit breaker '" + name + "' is CLOSED";
    };
  }

  /** The name of the breaker that refused the call. */
  public String name() {
    return name;
  }

  /** The breaker's state when it refused the call: {@code OPEN} or {@code HALF_OPEN}. */
  public CircuitBreaker.State state() {
    return state;
  }

  /**
   * How long the breaker was still to stay open when it refused; {@link Duration#ZERO} when it was
   * half-open (a trial permit may come back at any time).
   */
  public Duration remainingOpen() {
    return retryAfter;
  }

  /**
   * The {@link #remainingOpen()} time as a hint for a {@link dev.fanout.retry.RetryPolicy} around
   * the breaker: its next attempt waits at least until the breaker lets a trial call through
   * (capped by the policy's {@code maxRetryAfter}); empty when half-open.
   */
  @Override
  public Optional<Duration> retryAfter() {
    return retryAfter.isZero() ? Optional.empty() : Optional.of(retryAfter);
  }
}
