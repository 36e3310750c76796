package dev.fanout.k8s;

import dev.fanout.Policies;
import dev.fanout.retry.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One named step of a {@link ProvisioningPlan}: its action, the steps it waits for, and
 * optionally its own retry policy and timeout. Immutable; the {@code after}/{@code with...}
 * methods return changed copies.
 *
 * {@snippet :
 * ProvisioningStep dns = ProvisioningStep.of("dns-record", route53::upsertRecord)
 *     .after("certificate")
 *     .withRetry(RetryPolicy.builder().maxAttempts(5).build())
 *     .withTimeout(Duration.ofSeconds(30));
 * }
 *
 * @param name the step's name, unique within its plan: 1 to 63 characters, letters, digits,
 *     {@code -}, {@code _} and {@code .} (it appears in logs and as a meter tag)
 * @param dependsOn the names of the steps that must succeed before this one starts, without
 *     repeats; empty for a step that can start at once
 * @param action what the step does
 * @param retryPolicy how a failed attempt is retried; {@code null} for the plan's default (or
 *     when {@code policies} is given)
 * @param timeout the step's deadline: the most the step may take, retries included, before it is
 *     interrupted and reported {@link StepStatus#TIMED_OUT}; {@code null} for the plan's default.
 *     (To bound each attempt instead, give {@code policies} an {@link
 *     Policies.Builder#attemptTimeout attemptTimeout}.)
 * @param policies the composition each run of the step goes through, keyed by the namespace's
 *     name (a retry, a circuit breaker or rate gate shared with other steps or plans, an attempt
 *     timeout), instead of {@code retryPolicy}; {@code null} for {@code retryPolicy} alone
 */
public record ProvisioningStep(
    String name,
    List<String> dependsOn,
    StepAction action,
    @Nullable RetryPolicy retryPolicy,
    @Nullable Duration timeout,
    @Nullable Policies<? super String> policies) {

  /** The longest accepted step name. */
  public static final int MAX_NAME_LENGTH = 63;

  /** Validates every component and copies {@code dependsOn}. */
  public ProvisioningStep {
    requireName("name", name);
    Objects.requireNonNull(dependsOn, "dependsOn of step '" + name + "' must not be null");
    Set<String> seen = new HashSet<>();
    for (String dependency : dependsOn) {
      requireName("dependsOn of step '" + name + "'", dependency);
      if (!seen.add(dependency)) {
        throw new IllegalArgumentException(
            "dependsOn of step '" + name + "' names '" + dependency + "' twice: " + dependsOn);
      }
    }
    dependsOn = List.copyOf(dependsOn);
    Objects.requireNonNull(action, "action of step '" + name + "' must not be null");
    if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
      throw new IllegalArgumentException(
          "timeout of step '"
              + name
              + "' must be positive (or null for the plan's), was "
              + timeout);
    }
  }

  /** A step with its own retry policy or the plan's, and no policies of its own. */
  public ProvisioningStep(
      String name,
      List<String> dependsOn,
      StepAction action,
      @Nullable RetryPolicy retryPolicy,
      @Nullable Duration timeout) {
    this(name, dependsOn, action, retryPolicy, timeout, null);
  }

  /** A step with no dependencies, the plan's retry policy and the plan's timeout. */
  public static ProvisioningStep of(String name, StepAction action) {
    return new ProvisioningStep(name, List.of(), action, null, null, null);
  }

  /** This step, also waiting for {@code steps} to succeed. */
  public ProvisioningStep after(String... steps) {
    Objects.requireNonNull(steps, "steps must not be null");
    List<String> all = new ArrayList<>(dependsOn);
    all.addAll(Arrays.asList(steps));
    return new ProvisioningStep(name, all, action, retryPolicy, timeout, policies);
  }

  /** This step with its own retry policy (and no policies of its own). */
  public ProvisioningStep withRetry(RetryPolicy retryPolicy) {
    Objects.requireNonNull(retryPolicy, "retryPolicy must not be null");
    return new ProvisioningStep(name, dependsOn, action, retryPolicy, timeout, null);
  }

  /** This step with its own timeout: its deadline, retries included. */
  public ProvisioningStep withTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout must not be null");
    return new ProvisioningStep(name, dependsOn, action, retryPolicy, timeout, policies);
  }

  /**
   * This step running through {@code policies}, keyed by the namespace's name, instead of a retry
   * policy alone: for example a retry, the circuit breaker of the service the step calls (shared
   * by every namespace), and an attempt timeout.
   *
   * {@snippet :
   * ProvisioningStep queues = ProvisioningStep.of("sqs-queues", sqs::createQueues)
   *     .withPolicies(Policies.<String>builder()
   *         .retry(RetryPolicy.ofRetries(3))
   *         .circuitBreaker(sqsBreaker)
   *         .attemptTimeout(Duration.ofSeconds(20))
   *         .build());
   * }
   */
  public ProvisioningStep withPolicies(Policies<? super String> policies) {
    Objects.requireNonNull(policies, "policies must not be null");
    return new ProvisioningStep(name, dependsOn, action, null, timeout, policies);
  }

  static void requireName(String field, @Nullable String value) {
    Objects.requireNonNull(value, field + " must not be null");
    if (value.isEmpty() || value.length() > MAX_NAME_LENGTH || !isNameLike(value)) {
      throw new IllegalArgumentException(
          field
              + " must be 1 to "
              + MAX_NAME_LENGTH
              + " letters, digits, '-', '_' or '.', starting and ending with a letter or digit,"
              + " was '"
              + value
              + "'");
    }
  }

  /** The syntax of the name part of a Kubernetes annotation key (and of label names). */
  static boolean isNameLike(String value) {
    int n = value.length();
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      boolean inner = c == '-' || c == '_' || c == '.';
      if (!alnum && !(inner && i > 0 && i < n - 1)) {
        return false;
      }
    }
    return n > 0;
  }
}
