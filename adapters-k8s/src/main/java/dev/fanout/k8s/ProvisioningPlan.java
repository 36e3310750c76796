package dev.fanout.k8s;

import dev.fanout.k8s.internal.Dag;
import dev.fanout.k8s.internal.PlanRunner;
import dev.fanout.Policies;
import dev.fanout.retry.RetryPolicy;
import io.fabric8.kubernetes.api.model.Namespace;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What to do for one namespace: named {@linkplain ProvisioningStep steps} with dependencies, a
 * small directed acyclic graph. Where a {@link java.util.concurrent.CompletableFuture} chain wires
 * the order by hand, a plan declares it: independent steps run in parallel, a step starts as soon
 * as every step it depends on has succeeded, and a step whose dependency failed is skipped and
 * reported, not run. The graph is checked when the plan is built: a missing dependency or a cycle
 * is rejected with the step or the cycle named.
 *
 * {@snippet file="dev/fanout/k8s/snippets/NamespaceWatcherSnippets.java" region="plan"}
 *
 * <h2>Runs</h2>
 *
 * A {@link NamespaceWatcher} runs its creation plan for each new namespace and its deletion plan
 * after each deletion. {@link #run(Namespace)} runs a plan once on the calling thread, for tests
 * and one-off use. In a run, each step runs on its own virtual thread under its {@link
 * RetryPolicy} (the step's own, else the plan's {@link Builder#defaultRetry default}) and within
 * its timeout (which counts retries and their waits). Steps of one run never outlive it:
 * interrupting the thread that runs the plan cancels the run, interrupts the running steps, never
 * starts the others, and waits for the interrupted steps to end.
 *
 * <h2>Versions</h2>
 *
 * The {@link #version()} is what a watcher records on a namespace when the creation plan
 * succeeded (the annotation {@code provisioning.fanout.dev/<plan name>: <version>}). A namespace
 * marked with the current version is not provisioned again, by a restarted watcher or a
 * re-listed event; change the version to run a changed plan once more on every namespace.
 *
 * <p>A plan is immutable and thread-safe; any number of runs may use it at once.
 */
public final class ProvisioningPlan {
  private final String name;
  private final String version;
  private final List<ProvisioningStep> steps;
  private final Map<String, ProvisioningStep> byName;
  private final RetryPolicy defaultRetry;
  private final @Nullable Duration defaultTimeout;

  private ProvisioningPlan(Builder builder) {
    this.name = builder.name;
    this.version = builder.version;
    this.steps = Dag.order(name, builder.steps);
    this.defaultRetry = builder.defaultRetry;
    this.defaultTimeout = builder.defaultTimeout;
    Map<String, ProvisioningStep> index = new HashMap<>();
    for (ProvisioningStep step : steps) {
      index.put(step.name(), step);
    }
    this.byName = Map.copyOf(index);
  }

  /**
   * A builder for a plan.
   *
   * @param name the plan's name: 1 to 63 letters, digits, {@code -}, {@code _} and {@code .}
   *     (it is part of the annotation key that marks namespaces provisioned)
   * @param version the plan's version, recorded on each namespace it provisioned; not blank
   * @throws IllegalArgumentException if the name or version is not valid
   */
  public static Builder builder(String name, String version) {
    return new Builder(name, version);
  }

  /** The plan's name. */
  public String name() {
    return name;
  }

  /** The plan's version. */
  public String version() {
    return version;
  }

  /** The steps, each after the steps it depends on (declaration order where that is free). */
  public List<ProvisioningStep> steps() {
    return steps;
  }

  /**
   * One step by name.
   *
   * @throws NoSuchElementException if the plan has no such step
   */
  public ProvisioningStep step(String name) {
    ProvisioningStep step = byName.get(name);
    if (step == null) {
      throw new NoSuchElementException(
          "plan '" + this.name + "' has no step '" + name + "'; its steps: " + stepNames());
    }
    return step;
  }

  /** The steps' names, in {@link #steps()} order. */
  public List<String> stepNames() {
    return steps.stream().map(ProvisioningStep::name).toList();
  }

  /**
   * Every step that {@code step} depends on, directly or through others.
   *
   * @throws NoSuchElementException if the plan has no such step
   */
  public Set<String> dependenciesOf(String step) {
    // Walked on demand: stored for every step, the sets of a deep plan would be quadratic.
    ArrayDeque<String> todo = new ArrayDeque<>(step(step).dependsOn());
    Set<String> all = new HashSet<>();
    while (!todo.isEmpty()) {
      String next = todo.poll();
      if (all.add(next)) {
        todo.addAll(byName.get(next).dependsOn());
      }
    }
    return Set.copyOf(all);
  }

  /** The retry policy of steps that have none of their own. */
  public RetryPolicy defaultRetry() {
    return defaultRetry;
  }

  /** The timeout of steps that have none of their own, or {@code null} for none. */
  public @Nullable Duration defaultTimeout() {
    return defaultTimeout;
  }

  /** The retry policy {@code step} runs under: its own, else the plan's default. */
  public RetryPolicy retryPolicyOf(ProvisioningStep step) {
    RetryPolicy own = step.retryPolicy();
    return own != null ? own : defaultRetry;
  }

  /**
   * The policies each run of {@code step} goes through: its own, else a composition of its retry
   * policy ({@link #retryPolicyOf}) alone.
   */
  public Policies<? super String> policiesOf(ProvisioningStep step) {
    Policies<? super String> own = step.policies();
    return own != null ? own : Policies.<String>builder().retry(retryPolicyOf(step)).build();
  }

  /** The timeout {@code step} runs under: its own, else the plan's default (maybe none). */
  public @Nullable Duration timeoutOf(ProvisioningStep step) {
    Duration own = step.timeout();
    return own != null ? own : defaultTimeout;
  }

  /**
   * Runs the plan once for {@code namespace} and waits for it to finish. Steps run on new
   * virtual threads; interrupting the calling thread cancels the run (running steps are
   * interrupted and waited for up to 10 s, the others never start), returns a {@link
   * PlanStatus#CANCELLED} report and leaves the thread's interrupt status set.
   *
   * @throws NullPointerException if {@code namespace} or its metadata or name is null
   */
  public PlanReport run(Namespace namespace) {
    return new PlanRunner(
            this,
            Thread.ofVirtual().name("fanout-plan-" + name + "-", 0).factory(),
            PlanRunner.DEFAULT_CANCEL_GRACE,
            PlanRunner.StepObserver.NONE)
        .run(namespace);
  }

  @Override
  public String toString() {
    return "ProvisioningPlan[" + name + "@" + version + ", steps=" + stepNames() + "]";
  }

  /** Builds a {@link ProvisioningPlan}; {@link #build()} checks the graph. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private final String version;
    private final List<ProvisioningStep> steps = new ArrayList<>();
    private RetryPolicy defaultRetry = RetryPolicy.builder().name("k8s-step").build();
    private @Nullable Duration defaultTimeout;

    private Builder(String name, String version) {
      ProvisioningStep.requireName("plan name", name);
      Objects.requireNonNull(version, "version must not be null");
      if (version.isBlank()) {
        throw new IllegalArgumentException(
            "version of plan '" + name + "' must not be blank, was '" + version + "'");
      }
      this.name = name;
      this.version = version;
    }

    /**
     * Adds a step.
     *
     * @param name the step's name (see {@link ProvisioningStep#name()})
     * @param action what it does
     * @param dependsOn the steps that must succeed before it starts
     */
    public Builder step(String name, StepAction action, String... dependsOn) {
      Objects.requireNonNull(dependsOn, "dependsOn must not be null");
      return step(new ProvisioningStep(name, Arrays.asList(dependsOn), action, null, null));
    }

    /** Adds a step built with {@link ProvisioningStep#of}. */
    public Builder step(ProvisioningStep step) {
      steps.add(Objects.requireNonNull(step, "step must not be null"));
      return this;
    }

    /**
     * The retry policy of steps without their own; unless set, the {@link
     * RetryPolicy#builder()} defaults (3 attempts, 100 ms doubling up to 10 s with full jitter,
     * throttling retried apart) named {@code k8s-step}. {@link RetryPolicy#none()} for no retries.
     */
    public Builder defaultRetry(RetryPolicy retryPolicy) {
      this.defaultRetry = Objects.requireNonNull(retryPolicy, "defaultRetry must not be null");
      return this;
    }

    /** The timeout of steps without their own; none unless set. */
    public Builder defaultTimeout(@Nullable Duration timeout) {
      if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
        throw new IllegalArgumentException(
            "defaultTimeout must be positive (or null for none), was " + timeout);
      }
      this.defaultTimeout = timeout;
      return this;
    }

    /**
     * Checks the graph and builds the plan.
     *
     * @throws IllegalArgumentException if the plan has no step, declares a step twice, names a
     *     dependency that is not one of its steps, or has a dependency cycle (named in the
     *     message, such as {@code a -> b -> a})
     */
    public ProvisioningPlan build() {
      if (steps.isEmpty()) {
        throw new IllegalArgumentException("plan '" + name + "' must have at least one step");
      }
      return new ProvisioningPlan(this);
    }
  }
}
