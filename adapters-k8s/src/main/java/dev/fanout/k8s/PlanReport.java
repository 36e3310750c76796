package dev.fanout.k8s;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What one run of a {@link ProvisioningPlan} did for one namespace: each step's status, attempts
 * and timing, in the plan's order (dependencies before dependants).
 *
 * {@snippet :
 * PlanReport report = plan.run(namespace);
 * switch (report.status()) {
 *   case SUCCEEDED -> log.info(report.summary());
 *   case FAILED -> report.steps().stream()
 *       .filter(s -> s.status().isFailure())
 *       .forEach(s -> log.warn("{} failed after {} attempt(s)", s.step(), s.attempts(),
 *           s.error()));
 *   case CANCELLED -> log.info("{} was deleted while being created", report.namespace());
 * }
 * }
 *
 * @param namespace the namespace's name
 * @param plan the plan's name
 * @param planVersion the plan's version
 * @param status how the run ended
 * @param startedAt when the run started (wall clock)
 * @param elapsed how long the run took
 * @param steps every step of the plan, in the plan's order
 */
public record PlanReport(
    String namespace,
    String plan,
    String planVersion,
    PlanStatus status,
    Instant startedAt,
    Duration elapsed,
    List<StepReport> steps) {

  /** Validates every component and copies the steps. */
  public PlanReport {
    Objects.requireNonNull(namespace, "namespace must not be null");
    Objects.requireNonNull(plan, "plan must not be null");
    Objects.requireNonNull(planVersion, "planVersion must not be null");
    Objects.requireNonNull(status, "status must not be null");
    Objects.requireNonNull(startedAt, "startedAt must not be null");
    Objects.requireNonNull(elapsed, "elapsed must not be null");
    steps = List.copyOf(Objects.requireNonNull(steps, "steps must not be null"));
    if (elapsed.isNegative()) {
      throw new IllegalArgumentException("elapsed must not be negative, was " + elapsed);
    }
  }

  /**
   * The report of one step.
   *
   * @throws NoSuchElementException if the plan has no such step
   */
  public StepReport step(String name) {
    for (StepReport step : steps) {
      if (step.step().equals(name)) {
        return step;
      }
    }
    throw new NoSuchElementException(
        "plan '" + plan + "' has no step '" + name + "'; its steps: " + stepNames());
  }

  /** Whether every step succeeded. */
  public boolean succeeded() {
    return status == PlanStatus.SUCCEEDED;
  }

  /** The names of the steps that ended with {@code status}, in the plan's order. */
  public List<String> stepsWith(StepStatus status) {
    List<String> names = new ArrayList<>();
    for (StepReport step : steps) {
      if (step.status() == status) {
        names.add(step.step());
      }
    }
    return names;
  }

  /**
   * One line for the log, such as {@code namespace test101: plan tenant@1 succeeded, 6 steps in
   * 0.41 s} or {@code namespace test102: plan tenant@1 failed in 1.20 s: certificate failed after
   * 3 attempt(s) (IOException: quota exceeded); skipped: dns-record}.
   */
  public String summary() {
    StringBuilder line =
        new StringBuilder()
            .append("namespace ")
            .append(namespace)
            .append(": plan ")
            .append(plan)
            .append('@')
            .append(planVersion)
            .append(' ')
            .append(status.name().toLowerCase(Locale.ROOT));
    if (status == PlanStatus.SUCCEEDED) {
      line.append(", ").append(steps.size()).append(" step(s)");
    }
    line.append(" in ").append(String.format(Locale.ROOT, "%.2f s", elapsed.toNanos() / 1e9));
    String failures =
        steps.stream()
            .filter(s -> s.status().isFailure())
            .map(
                s ->
                    s.step()
                        + (s.status() == StepStatus.TIMED_OUT ? " timed out" : " failed")
                        + " after "
                        + s.attempts()
                        + " attempt(s)"
                        + (s.error() == null ? "" : " (" + describe(s.error()) + ")"))
            .collect(Collectors.joining(", "));
    if (!failures.isEmpty()) {
      line.append(": ").append(failures);
    }
    appendNames(line, "skipped", stepsWith(StepStatus.SKIPPED));
    appendNames(line, "cancelled", stepsWith(StepStatus.CANCELLED));
    return line.toString();
  }

  private List<String> stepNames() {
    return steps.stream().map(StepReport::step).toList();
  }

  private static void appendNames(StringBuilder line, String label, List<String> names) {
    if (!names.isEmpty()) {
      line.append("; ").append(label).append(": ").append(String.join(", ", names));
    }
  }

  private static String describe(Throwable error) {
    String message = error.getMessage();
    return error.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
