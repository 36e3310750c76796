package dev.fanout.breaker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.breaker.CircuitBreaker.State;
import dev.fanout.retry.ThrottledException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The breaker against a plain sequential model, over random sequences of calls (success, failure,
 * ignored error), calls held open and finished later (so outcomes arrive in later states), released
 * permissions, and clock steps. After every step the permission answers, the state, the counts and
 * the time left open must be the model's.
 */
class CircuitBreakerModelPropertiesTest {
  static final long OPEN_NANOS = 1_000;

  enum Kind {
    SUCCESS,
    FAILURE,
    IGNORED,
    HOLD,
    FINISH_SUCCESS,
    FINISH_FAILURE,
    FINISH_IGNORED,
    RELEASE,
    ADVANCE
  }

  record Step(Kind kind, long nanos) {}

  @Provide
  Arbitrary<Step> steps() {
    return Combinators.combine(
            Arbitraries.of(Kind.class), Arbitraries.longs().between(0, 2 * OPEN_NANOS))
        .as(Step::new);
  }

  @Property(tries = 1000)
  void behavesAsTheSequentialModel(
      @ForAll @IntRange(min = 0, max = 4) int thresholdChoice,
      @ForAll @IntRange(min = 1, max = 8) int windowSize,
      @ForAll @IntRange(min = 1, max = 8) int minimumCallsWish,
      @ForAll @IntRange(min = 0, max = 4) int consecutiveFailures,
      @ForAll @IntRange(min = 1, max = 4) int halfOpenCalls,
      @ForAll @Size(max = 200) List<@From("steps") Step> steps) {
    double[] thresholds = {0, 25, 50, 66.6, 100}; // 0: no window
    double threshold = thresholds[thresholdChoice];
    int minimumCalls = Math.min(minimumCallsWish, windowSize);
    AtomicLong now = new AtomicLong(-5_000); // readings may be negative: only differences count
    CircuitBreaker.Builder b =
        CircuitBreaker.builder()
            .ticker(now::get)
            .openDuration(Duration.ofNanos(OPEN_NANOS))
            .halfOpenCalls(halfOpenCalls);
    if (threshold > 0) {
      b.failureRateThreshold(threshold, windowSize, minimumCalls);
    }
    if (consecutiveFailures > 0) {
      b.consecutiveFailures(consecutiveFailures);
    }
    if (threshold == 0 && consecutiveFailures == 0) { // the defaults
      threshold = 50;
      windowSize = 20;
      minimumCalls = 10;
    }
    CircuitBreaker breaker = b.build();
    Model model = new Model(threshold, windowSize, minimumCalls, consecutiveFailures, halfOpenCalls);
    int held = 0;

    for (Step step : steps) {
      switch (step.kind()) {
        case SUCCESS, FAILURE, IGNORED -> {
          boolean permitted = breaker.tryAcquirePermission();
          assertThat(permitted).as("permission at %s", step).isEqualTo(model.acquire(now.get()));
          if (permitted) {
            report(breaker, step.kind());
            model.outcome(step.kind(), now.get());
          }
        }
        case HOLD -> {
          boolean permitted = breaker.tryAcquirePermission();
          assertThat(permitted).as("permission at %s", step).isEqualTo(model.acquire(now.get()));
          if (permitted) {
            held++;
          }
        }
        case FINISH_SUCCESS, FINISH_FAILURE, FINISH_IGNORED, RELEASE -> {
          if (held > 0) {
            held--;
            Kind outcome =
                switch (step.kind()) {
                  case FINISH_SUCCESS -> Kind.SUCCESS;
                  case FINISH_FAILURE -> Kind.FAILURE;
                  case FINISH_IGNORED -> Kind.IGNORED;
                  default -> Kind.RELEASE;
                };
            report(breaker, outcome);
            model.outcome(outcome, now.get());
          }
        }
        case ADVANCE -> now.addAndGet(step.nanos());
      }
      CircuitBreaker.Metrics m = breaker.metrics();
      assertThat(m.state()).as("state after %s", step).isEqualTo(model.state);
      assertThat(breaker.state()).isEqualTo(model.state);
      assertThat(m.bufferedCalls()).as("window after %s", step).isEqualTo(model.buffered());
      assertThat(m.failedCalls()).as("failures after %s", step).isEqualTo(model.failed());
      assertThat(m.consecutiveFailures()).isEqualTo(model.consecutive);
      assertThat(m.trialsInFlight()).isEqualTo(model.inFlight);
      assertThat(m.trialSuccesses()).isEqualTo(model.successes);
      assertThat(breaker.remainingOpen()).isEqualTo(model.remainingOpen(now.get()));
    }
  }

  private static void report(CircuitBreaker breaker, Kind outcome) {
    switch (outcome) {
      case SUCCESS -> breaker.onSuccess();
      case FAILURE -> breaker.onError(new IOException("down"));
      case IGNORED -> breaker.onError(new ThrottledException("429"));
      case RELEASE -> breaker.releasePermission();
      default -> throw new AssertionError(outcome);
    }
  }

  /** The breaker as the documentation describes it, one step at a time. */
  static final class Model {
    final double threshold;
    final int windowSize;
    final int minimumCalls;
    final int consecutiveLimit;
    final int halfOpenCalls;

    State state = State.CLOSED;
    long openedAt;
    final List<Boolean> window = new ArrayList<>(); // oldest first; true = failed
    int consecutive;
    int inFlight;
    int successes;

    Model(double threshold, int windowSize, int minimumCalls, int consecutiveLimit, int halfOpen) {
      this.threshold = threshold;
      this.windowSize = windowSize;
      this.minimumCalls = minimumCalls;
      this.consecutiveLimit = consecutiveLimit;
      this.halfOpenCalls = halfOpen;
    }

    boolean acquire(long now) {
      if (state == State.OPEN && now - openedAt >= OPEN_NANOS) {
        enter(State.HALF_OPEN, now);
      }
      return switch (state) {
        case CLOSED -> true;
        case OPEN -> false;
        case HALF_OPEN -> {
          if (inFlight + successes == halfOpenCalls) {
            yield false;
          }
          inFlight++;
          yield true;
        }
      };
    }

    void outcome(Kind kind, long now) {
      if (state == State.CLOSED) {
        if (kind == Kind.SUCCESS) {
          consecutive = 0;
          add(false);
        } else if (kind == Kind.FAILURE) {
          consecutive++;
          add(true);
          long failures = window.stream().filter(f -> f).count();
          boolean rateTrips =
              threshold > 0
                  && window.size() >= minimumCalls
                  && 100.0 * failures / window.size() >= threshold;
          if (rateTrips || (consecutiveLimit > 0 && consecutive >= consecutiveLimit)) {
            enter(State.OPEN, now);
          }
        }
      } else if (state == State.HALF_OPEN && inFlight > 0) {
        inFlight--;
        if (kind == Kind.SUCCESS && ++successes == halfOpenCalls) {
          enter(State.CLOSED, now);
        } else if (kind == Kind.FAILURE) {
          enter(State.OPEN, now);
        }
      }
    }

    private void add(boolean failed) {
      if (threshold == 0) {
        return;
      }
      window.add(failed);
      if (window.size() > windowSize) {
        window.remove(0);
      }
    }

    private void enter(State to, long now) {
      state = to;
      openedAt = now;
      window.clear();
      consecutive = 0;
      inFlight = 0;
      successes = 0;
    }

    int buffered() {
      return window.size();
    }

    int failed() {
      return (int) window.stream().filter(f -> f).count();
    }

    Duration remainingOpen(long now) {
      return state == State.OPEN && now - openedAt < OPEN_NANOS
          ? Duration.ofNanos(OPEN_NANOS - (now - openedAt))
          : Duration.ZERO;
    }
  }
}
