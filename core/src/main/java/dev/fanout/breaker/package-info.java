/**
 * Circuit breakers: stop calling a service that keeps failing, and try it again after a while.
 * {@link dev.fanout.breaker.CircuitBreaker} (closed / open / half-open, a count-based failure-rate
 * window and/or a run of consecutive failures, an injected clock),
 * {@link dev.fanout.breaker.CircuitBreakerListener} for its transitions, and
 * {@link dev.fanout.breaker.CallNotPermittedException} for the calls it refuses.
 *
 * {@snippet :
 * CircuitBreaker breaker = CircuitBreaker.builder()
 *     .name("eks")
 *     .failureRateThreshold(50, 20, 10)    // 50% of the last 20 calls, at least 10 recorded
 *     .consecutiveFailures(5)              // or 5 failures in a row
 *     .openDuration(Duration.ofSeconds(30))
 *     .halfOpenCalls(3)
 *     .meterRegistry(registry)             // fanout.breaker.state, fanout.breaker.calls
 *     .build();
 *
 * try {
 *   return breaker.call(() -> eks.listClusters(account));
 * } catch (CallNotPermittedException e) {
 *   return fallback(account, e.remainingOpen()); // open: the task was not called
 * }
 * }
 *
 * <p>A breaker is a per-call policy like {@link dev.fanout.retry.RetryPolicy} and
 * {@link dev.fanout.rate.RateGate}; a caller composing stages by hand uses
 * {@code tryAcquirePermission()} and then exactly one of {@code onSuccess()}, {@code onError(e)}
 * or {@code releasePermission()}.
 */
@NullMarked
package dev.fanout.breaker;

import org.jspecify.annotations.NullMarked;
