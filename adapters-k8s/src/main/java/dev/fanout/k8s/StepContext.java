package dev.fanout.k8s;

import io.fabric8.kubernetes.api.model.Namespace;
import java.util.Optional;

/**
 * What a running {@link StepAction} knows: the namespace it works for, which step and attempt
 * it is, and the outputs of the steps it depends on.
 *
 * {@snippet :
 * ProvisioningPlan plan = ProvisioningPlan.builder("tenant", "1")
 *     .step("certificate", ctx -> ctx.setOutput(acm.requestCertificate(ctx.namespace())))
 *     .step("dns-record", ctx -> {
 *         String certificateArn = ctx.output("certificate", String.class).orElseThrow();
 *         route53.upsertValidationRecord(ctx.namespace(), certificateArn);
 *     }, "certificate")
 *     .build();
 * }
 *
 * <p>A context belongs to one step of one run and is used by that step's thread; an output set by
 * a step happens-before any step that depends on it starts.
 */
public interface StepContext {

  /** The namespace's name. */
  String namespace();

  /**
   * The Namespace as the watcher last saw it: for a creation, the object from the informer's
   * cache; for a deletion, its final state.
   */
  Namespace resource();

  /** The name of the running step. */
  String step();

  /** The name of the plan the step belongs to. */
  String plan();

  /** The version of the plan the step belongs to. */
  String planVersion();

  /** The current attempt of this step, 1 for the first. */
  int attempt();

  /**
   * Publishes this step's output (a certificate ARN, a queue URL) for the steps that depend on
   * it. A later call replaces the value.
   */
  void setOutput(Object value);

  /**
   * The output that {@code step}, one of this step's direct or indirect dependencies, published.
   *
   * @return the output, or empty if that step published none
   * @throws IllegalArgumentException if {@code step} is not a dependency of this step (its output
   *     might not exist yet)
   * @throws ClassCastException if the output is not a {@code type}
   */
  <T> Optional<T> output(String step, Class<T> type);
}
