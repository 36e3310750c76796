package dev.fanout;

import java.util.Objects;
import java.util.function.Predicate;

/**
 * When a fan-out is done before every key has run: after which result the rest is cancelled (as
 * with {@link FailureMode#FAIL_FAST}: queued keys are reported cancelled without running, running
 * ones are interrupted and reported cancelled). The names follow JDK 25's {@code
 * StructuredTaskScope.Joiner}.
 *
 * {@snippet :
 * // Ask every region's mirror; the first answer wins and the others are cancelled.
 * FanOutReport<String, Manifest> report = pool.fanOutAndWait(mirrors, this::fetchManifest,
 *     FanOutOptions.of(pool.config()).withJoin(FanOutJoin.firstSuccess()));
 * Manifest manifest = report.values().values().iterator().next();
 * }
 *
 * The fan-out's {@link FailureMode} still applies: with {@code FAIL_FAST} a failure ends it
 * whatever the join. Every key still gets exactly one result; the report tells which succeeded.
 * A join is told of every result that is not a cancellation, one at a time, in the order they are
 * delivered.
 */
public sealed interface FanOutJoin {

  /** Whether the fan-out ends after {@code result}, the {@code successes}-th success so far. */
  boolean endsAfter(Result<?, ?> result, int successes);

  /** Every key runs: the fan-out ends when each has a result. The default. */
  static FanOutJoin all() {
    return All.INSTANCE;
  }

  /** The first success ends the fan-out; failures before it do not. */
  static FanOutJoin firstSuccess() {
    return new Quorum(1);
  }

  /**
   * The {@code successes}-th success ends the fan-out (a quorum of replicas answered).
   *
   * @throws IllegalArgumentException if {@code successes} is less than 1
   */
  static FanOutJoin quorum(int successes) {
    if (successes < 1) {
      throw new IllegalArgumentException("successes must be at least 1, was " + successes);
    }
    return new Quorum(successes);
  }

  /**
   * The first result for which {@code ends} is true ends the fan-out, e.g. {@code r -> r
   * instanceof Result.Success<?, ?> s && s.value() instanceof Found}. The predicate runs on the thread that completed
   * the key, one result at a time; if it throws, the fan-out ends there too.
   */
  static FanOutJoin until(Predicate<? super Result<?, ?>> ends) {
    return new Until(Objects.requireNonNull(ends, "ends must not be null"));
  }

  /** {@link #all()}. */
  enum All implements FanOutJoin {
    INSTANCE;

    @Override
    public boolean endsAfter(Result<?, ?> result, int successes) {
      return false;
    }

    @Override
    public String toString() {
      return "all";
    }
  }

  /** {@link #firstSuccess()} and {@link #quorum(int)}. */
  record Quorum(int successes) implements FanOutJoin {
    @Override
    public boolean endsAfter(Result<?, ?> result, int successesSoFar) {
      return successesSoFar >= successes;
    }

    @Override
    public String toString() {
      return successes == 1 ? "first success" : "quorum of " + successes;
    }
  }

  /** {@link #until(Predicate)}. */
  record Until(Predicate<? super Result<?, ?>> ends) implements FanOutJoin {
    @Override
    public boolean endsAfter(Result<?, ?> result, int successes) {
      return ends.test(result);
    }

    @Override
    public String toString() {
      return "until the predicate held";
    }
  }
}
