package dev.fanout.breaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fanout.breaker.CircuitBreaker.State;
import dev.fanout.retry.ThrottledException;
import dev.fanout.time.FakeTime;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The breaker's state machine on a hand-driven clock: no test here sleeps. */
class CircuitBreakerTest {
  private static final IOException FAILURE = new IOException("connection reset");

  private final FakeTime time = FakeTime.manual();
  private final List<String> transitions = new ArrayList<>();

  private CircuitBreaker.Builder breaker() {
    return CircuitBreaker.builder()
        .name("svc")
        .ticker(time)
        .listener((b, from, to) -> transitions.add(b.name() + ":" + from + "->" + to));
  }

  private static void fail(CircuitBreaker cb, int n) {
    for (int i = 0; i < n; i++) {
      assertThat(cb.tryAcquirePermission()).isTrue();
      cb.onError(FAILURE);
    }
  }

  private static void succeed(CircuitBreaker cb, int n) {
    for (int i = 0; i < n; i++) {
      assertThat(cb.tryAcquirePermission()).isTrue();
      cb.onSuccess();
    }
  }

  @Test
  void defaultsAreFiftyPercentOfTwentyCallsWithTenAtLeastThirtySecondsAndThreeTrials() {
    CircuitBreaker cb = CircuitBreaker.ofDefaults("x");
    assertThat(cb.failureRateThreshold()).isEqualTo(50);
    assertThat(cb.windowSize()).isEqualTo(20);
    assertThat(cb.minimumCalls()).isEqualTo(10);
    assertThat(cb.consecutiveFailures()).isZero();
    assertThat(cb.openDuration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(cb.halfOpenCalls()).isEqualTo(3);
    assertThat(cb.state()).isEqualTo(State.CLOSED);
    assertThat(cb.remainingOpen()).isEqualTo(Duration.ZERO);
  }

  @Test
  void defaultWindowOpensAtHalfOfTheCallsOnceTenAreRecorded() {
    CircuitBreaker cb = breaker().build();
    fail(cb, 9); // 9 of 9 failed, but fewer than minimumCalls
    assertThat(cb.state()).isEqualTo(State.CLOSED);
    fail(cb, 1);
    assertThat(cb.state()).isEqualTo(State.OPEN);
    assertThat(transitions).containsExactly("svc:CLOSED->OPEN");
  }

  @Test
  void failureRateIsOverTheLastWindowSizeCalls() {
    CircuitBreaker cb = breaker().failureRateThreshold(50, 4, 4).build();
    fail(cb, 1);
    succeed(cb, 3); // F S S S: 25%
    fail(cb, 1); // S S S F: 25% (the first failure left the window)
    assertThat(cb.metrics().failedCalls()).isEqualTo(1);
    assertThat(cb.metrics().bufferedCalls()).isEqualTo(4);
    assertThat(cb.state()).isEqualTo(State.CLOSED);
    fail(cb, 1); // S S F F: 50%
    assertThat(cb.state()).isEqualTo(State.OPEN);
  }

  @Test
  void justBelowTheThresholdStaysClosed() {
    CircuitBreaker cb = breaker().failureRateThreshold(60, 5, 5).build();
    succeed(cb, 3);
    fail(cb, 2); // 40%
    assertThat(cb.state()).isEqualTo(State.CLOSED);
    assertThat(cb.metrics().failureRate()).isEqualTo(40.0);
    fail(cb, 1); // S S F F F: 60%
    assertThat(cb.state()).isEqualTo(State.OPEN);
  }

  @Test
  void consecutiveFailuresAloneHasNoWindowAndASuccessBreaksTheRun() {
    CircuitBreaker cb = breaker().consecutiveFailures(3).build();
    assertThat(cb.windowSize()).isZero();
    fail(cb, 2);
    succeed(cb, 1);
    fail(cb, 2);
    assertThat(cb.state()).isEqualTo(State.CLOSED);
    assertThat(cb.metrics().consecutiveFailures()).isEqualTo(2);
    fail(cb, 1);
    assertThat(cb.state()).isEqualTo(State.OPEN);
  }

  @Test
  void whicheverTripsFirstOpens() {
    CircuitBreaker cb = breaker().failureRateThreshold(50, 100, 100).consecutiveFailures(2).build();
    fail(cb, 2);
    assertThat(cb.state()).isEqualTo(State.OPEN);
  }

  @Test
  void openRefusesForTheOpenDurationThenLetsTrialCallsThrough() {
    CircuitBreaker cb =
        breaker().consecutiveFailures(1).openDuration(Duration.ofSeconds(10)).halfOpenCalls(2).build();
    fail(cb, 1);
    assertThat(cb.remainingOpen()).isEqualTo(Duration.ofSeconds(10));
    time.advance(Duration.ofSeconds(10).minusNanos(1));
    assertThat(cb.tryAcquirePermission()).isFalse();
    assertThat(cb.remainingOpen()).isEqualTo(Duration.ofNanos(1));
    time.advance(1);
    assertThat(cb.state()).isEqualTo(State.OPEN); // decided at the next request, not by a thread
    assertThat(cb.remainingOpen()).isEqualTo(Duration.ZERO);
    assertThat(cb.tryAcquirePermission()).isTrue();
    assertThat(cb.state()).isEqualTo(State.HALF_OPEN);
    assertThat(cb.tryAcquirePermission()).isTrue();
    assertThat(cb.tryAcquirePermission()).isFalse(); // both trials taken
    cb.onSuccess();
    assertThat(cb.tryAcquirePermission()).isFalse(); // a trial that succeeded is not given back
    assertThat(cb.state()).isEqualTo(State.HALF_OPEN);
    cb.onSuccess();
    assertThat(cb.state()).isEqualTo(State.CLOSED);
    assertThat(transitions)
        .containsExactly("svc:CLOSED->OPEN", "svc:OPEN->HALF_OPEN", "svc:HALF_OPEN->CLOSED");
  }

  @Test
  void closingStartsWithAnEmptyWindow() {
    CircuitBreaker cb = breaker().failureRateThreshold(50, 4, 2).halfOpenCalls(1).build();
    fail(cb, 2);
    time.advance(Duration.ofSeconds(30));
    succeed(cb, 1);
    assertThat(cb.state()).isEqualTo(State.CLOSED);
    assertThat(cb.metrics())
        .isEqualTo(new CircuitBreaker.Metrics(State.CLOSED, 0, 0, 0, 0, 0));
    fail(cb, 1);
    assertThat(cb.state()).isEqualTo(State.CLOSED); // 1 call: below minimumCalls
  }

  @Test
  void anyTrialFailureOpensAgainForAFullOpenDuration() {
    CircuitBreaker cb = breaker().consecutiveFailures(1).halfOpenCalls(3).build();
    fail(cb, 1);
    time.advance(Duration.ofSeconds(30));
    assertThat(cb.tryAcquirePermission()).isTrue();
    assertThat(cb.tryAcquirePermission()).isTrue();
    cb.onSuccess();
    cb.onError(FAILURE);
    assertThat(cb.state()).isEqualTo(State.OPEN);
    assertThat(cb.remainingOpen()).isEqualTo(Duration.ofSeconds(30));
    assertThat(cb.tryAcquirePermission()).isFalse();
    assertThat(transitions)
        .containsExactly("svc:CLOSED->OPEN", "svc:OPEN->HALF_OPEN", "svc:HALF_OPEN->OPEN");
  }

  @Test
  void ignoredErrorsAndReleasesGiveATrialPermitBackWithoutCounting() {
    CircuitBreaker cb = breaker().consecutiveFailures(1).halfOpenCalls(1).build();
    fail(cb, 1);
    time.advance(Duration.ofSeconds(30));
    assertThat(cb.tryAcquirePermission()).isTrue();
    assertThat(cb.tryAcquirePermission()).isFalse();
    cb.onError(new ThrottledException("429"));
    assertThat(cb.state()).isEqualTo(State.HALF_OPEN);
    assertThat(cb.tryAcquirePermission()).isTrue();
    cb.releasePermission();
    assertThat(cb.metrics().trialsInFlight()).isZero();
    assertThat(cb.tryAcquirePermission()).isTrue();
    cb.onSuccess();
    assertThat(cb.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void throttlingInterruptsAndCancellationsAreNeitherSuccessNorFailure() {
    CircuitBreaker cb = breaker().consecutiveFailures(2).build();
    fail(cb, 1);
    for (Throwable ignored :
        List.of(
            new ThrottledException("429"),
            new IOException("wrapped", new ThrottledException("429")),
            new InterruptedException(),
            new CancellationException(),
            new AssertionError("an Error"))) {
      assertThat(cb.tryAcquirePermission()).isTrue();
      cb.onError(ignored);
    }
    assertThat(cb.metrics().consecutiveFailures()).isEqualTo(1); // not reset: no success either
    fail(cb, 1);
    assertThat(cb.state()).isEqualTo(State.OPEN);
  }

  @Test
  void recordFailureWhenDecidesWhatCounts() {
    CircuitBreaker cb =
        breaker().consecutiveFailures(1).recordFailureWhen(e -> e instanceof IllegalStateException).build();
    assertThat(cb.tryAcquirePermission()).isTrue();
    cb.onError(FAILURE);
    assertThat(cb.state()).isEqualTo(State.CLOSED);
    assertThat(cb.tryAcquirePermission()).isTrue();
    cb.onError(new IllegalStateException());
    assertThat(cb.state()).isEqualTo(State.OPEN);
  }

  @Test
  void outcomesReportedWhileOpenChangeNothing() {
    CircuitBreaker cb = breaker().consecutiveFailures(1).halfOpenCalls(1).build();
    assertThat(cb.tryAcquirePermission()).isTrue(); // a slow call, permitted while closed
    fail(cb, 1);
    cb.onSuccess(); // the slow call ends while open
    assertThat(cb.state()).isEqualTo(State.OPEN);
    assertThat(cb.remainingOpen()).isEqualTo(Duration.ofSeconds(30));
    time.advance(Duration.ofSeconds(30));
    cb.onSuccess(); // still open (lazily): nothing
    assertThat(cb.tryAcquirePermission()).isTrue();
    assertThat(cb.state()).isEqualTo(State.HALF_OPEN);
  }

  @Test
  void anOutcomeInHalfOpenWithNoTrialInFlightIsIgnored() {
    CircuitBreaker cb = breaker().consecutiveFailures(1).halfOpenCalls(1).build();
    fail(cb, 1);
    time.advance(Duration.ofSeconds(30));
    assertThat(cb.tryAcquirePermission()).isTrue();
    cb.releasePermission();
    cb.onError(FAILURE); // belongs to no trial
    cb.onSuccess();
    cb.releasePermission();
    assertThat(cb.state()).isEqualTo(State.HALF_OPEN);
    assertThat(cb.metrics().trialsInFlight()).isZero();
    assertThat(cb.tryAcquirePermission()).isTrue();
    assertThat(cb.tryAcquirePermission()).isFalse();
  }

  @Test
  void callRefusesWithTheTimeLeftOpenAndDoesNotCallTheTask() throws Exception {
    CircuitBreaker cb = breaker().consecutiveFailures(1).halfOpenCalls(1).build();
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(() -> cb.call(() -> {
          calls.incrementAndGet();
          throw FAILURE;
        }))
        .isSameAs(FAILURE);
    time.advance(Duration.ofSeconds(12));
    assertThatThrownBy(() -> cb.call(calls::incrementAndGet))
        .isInstanceOfSatisfying(
            CallNotPermittedException.class,
            e -> {
              assertThat(e.name()).isEqualTo("svc");
              assertThat(e.state()).isEqualTo(State.OPEN);
              assertThat(e.remainingOpen()).isEqualTo(Duration.ofSeconds(18));
              assertThat(e.getStackTrace()).isEmpty();
              assertThat(e).hasMessage("circuit breaker 'svc' is OPEN: calls are permitted again in 18s");
            });
    assertThat(calls).hasValue(1);

    time.advance(Duration.ofSeconds(18));
    assertThat(cb.tryAcquirePermission()).isTrue(); // the only trial
    assertThatThrownBy(() -> cb.call(calls::incrementAndGet))
        .isInstanceOfSatisfying(
            CallNotPermittedException.class,
            e -> {
              assertThat(e.state()).isEqualTo(State.HALF_OPEN);
              assertThat(e.remainingOpen()).isEqualTo(Duration.ZERO);
            });
    cb.onSuccess();
    assertThat(cb.call(() -> "ok")).isEqualTo("ok");
    assertThat(calls).hasValue(1);
  }

  @Test
  void callRecordsErrorsAndRethrowsThemUnchanged() {
    CircuitBreaker cb = breaker().consecutiveFailures(2).build();
    AssertionError error = new AssertionError("boom");
    assertThatThrownBy(() -> cb.call(() -> {
          throw error;
        }))
        .isSameAs(error);
    assertThat(cb.metrics().consecutiveFailures()).isZero(); // an Error is ignored by default
  }

  @Test
  void aListenerThatThrowsDoesNotBreakTheBreakerOrTheOthers() {
    List<State> seen = new ArrayList<>();
    CircuitBreaker cb =
        CircuitBreaker.builder()
            .ticker(time)
            .consecutiveFailures(1)
            .listener((b, from, to) -> {
              throw new IllegalStateException("listener bug");
            })
            .listener((b, from, to) -> seen.add(to))
            .build();
    fail(cb, 1);
    assertThat(cb.state()).isEqualTo(State.OPEN);
    assertThat(seen).containsExactly(State.OPEN);
  }

  @Test
  void resetClosesWithEmptyCounts() {
    CircuitBreaker cb = breaker().consecutiveFailures(1).build();
    fail(cb, 1);
    cb.reset();
    assertThat(cb.state()).isEqualTo(State.CLOSED);
    assertThat(cb.tryAcquirePermission()).isTrue();
    assertThat(transitions).containsExactly("svc:CLOSED->OPEN", "svc:OPEN->CLOSED");
  }

  @Test
  void metersCountOutcomesAndShowTheState() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CircuitBreaker cb =
        breaker().consecutiveFailures(2).halfOpenCalls(1).meterRegistry(registry).build();
    succeed(cb, 1);
    fail(cb, 2);
    assertThat(cb.tryAcquirePermission()).isFalse();
    assertThat(cb.tryAcquirePermission()).isFalse();
    time.advance(Duration.ofSeconds(30));
    assertThat(cb.tryAcquirePermission()).isTrue();
    cb.onError(new InterruptedException());
    assertThat(cb.tryAcquirePermission()).isTrue();
    cb.releasePermission();

    assertThat(calls(registry, "success")).isEqualTo(1);
    assertThat(calls(registry, "failure")).isEqualTo(2);
    assertThat(calls(registry, "not_permitted")).isEqualTo(2);
    assertThat(calls(registry, "ignored")).isEqualTo(1);
    assertThat(calls(registry, "released")).isEqualTo(1);
    assertThat(state(registry, "half_open")).isEqualTo(1);
    assertThat(state(registry, "open")).isZero();
    assertThat(state(registry, "closed")).isZero();
    assertThat(registry.get("fanout.breaker.transitions").tag("to", "open").counter().count())
        .isEqualTo(1);
  }

  private static double calls(SimpleMeterRegistry registry, String outcome) {
    return registry
        .get("fanout.breaker.calls")
        .tag("name", "svc")
        .tag("outcome", outcome)
        .counter()
        .count();
  }

  private static double state(SimpleMeterRegistry registry, String state) {
    return registry.get("fanout.breaker.state").tag("name", "svc").tag("state", state).gauge().value();
  }

  @Test
  void badSettingsNameTheParameterAndTheValue() {
    CircuitBreaker.Builder b = CircuitBreaker.builder();
    assertThatThrownBy(() -> b.failureRateThreshold(0, 10, 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("failureRateThreshold percent must be in (0, 100], was 0.0");
    assertThatThrownBy(() -> b.failureRateThreshold(100.5, 10, 5))
        .hasMessage("failureRateThreshold percent must be in (0, 100], was 100.5");
    assertThatThrownBy(() -> b.failureRateThreshold(Double.NaN, 10, 5))
        .hasMessage("failureRateThreshold percent must be in (0, 100], was NaN");
    assertThatThrownBy(() -> b.failureRateThreshold(50, 0, 1))
        .hasMessage("windowSize must be at least 1, was 0");
    assertThatThrownBy(() -> b.failureRateThreshold(50, 10, 11))
        .hasMessage("minimumCalls must be between 1 and windowSize (10), was 11");
    assertThatThrownBy(() -> b.failureRateThreshold(50, 10, 0))
        .hasMessage("minimumCalls must be between 1 and windowSize (10), was 0");
    assertThatThrownBy(() -> b.consecutiveFailures(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("consecutiveFailures must be at least 1, was 0");
    assertThatThrownBy(() -> b.openDuration(Duration.ZERO))
        .hasMessage("openDuration must be positive, was PT0S");
    assertThatThrownBy(() -> b.openDuration(Duration.ofSeconds(-1)))
        .hasMessage("openDuration must be positive, was PT-1S");
    assertThatThrownBy(() -> b.halfOpenCalls(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("halfOpenCalls must be at least 1, was 0");
    assertThatThrownBy(() -> b.name(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name must not be blank, was ' '");
    assertThatThrownBy(() -> b.ticker(null)).isInstanceOf(NullPointerException.class).hasMessage("ticker must not be null");
    CircuitBreaker cb = CircuitBreaker.ofDefaults("x");
    assertThatThrownBy(() -> cb.onError(null)).hasMessage("error must not be null");
    assertThatThrownBy(() -> cb.call(null)).hasMessage("task must not be null");
  }

  @Test
  void aVeryLongOpenDurationNeverHalfOpens() {
    CircuitBreaker cb =
        breaker().consecutiveFailures(1).openDuration(Duration.ofDays(365 * 1000)).build();
    fail(cb, 1);
    time.advance(Long.MAX_VALUE / 2);
    assertThat(cb.tryAcquirePermission()).isFalse();
    assertThat(cb.remainingOpen()).isPositive();
  }
}
