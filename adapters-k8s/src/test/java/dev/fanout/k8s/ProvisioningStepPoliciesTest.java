package dev.fanout.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.Policies;
import dev.fanout.breaker.CallNotPermittedException;
import dev.fanout.breaker.CircuitBreaker;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryPolicy;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Steps that run through a {@link Policies} composition, without Kubernetes. */
class ProvisioningStepPoliciesTest {
  private static final RetryPolicy QUICK =
      RetryPolicy.builder().maxAttempts(3).backoff(Backoff.fixed(Duration.ofMillis(1))).build();

  @Test
  void anAttemptTimeoutEndsAHangingAttemptAndTheRetryRunsTheStepAgain() {
    AtomicInteger calls = new AtomicInteger();
    ProvisioningPlan plan =
        ProvisioningPlan.builder("tenant", "1")
            .step(
                ProvisioningStep.of(
                        "certificate",
                        ctx -> {
                          if (calls.incrementAndGet() == 1) {
                            new CountDownLatch(1).await(1, TimeUnit.HOURS); // hangs
                          }
                        })
                    .withPolicies(
                        Policies.<String>builder()
                            .retry(QUICK)
                            .attemptTimeout(Duration.ofMillis(200))
                            .build()))
            .build();

    PlanReport report = plan.run(ProvisioningPlanTest.namespace("test101"));

    assertThat(report.status()).isEqualTo(PlanStatus.SUCCEEDED);
    assertThat(report.step("certificate").attempts()).isEqualTo(2);
  }

  @Test
  void aBreakerSharedByEveryNamespaceRefusesTheStepOnceItOpened() {
    CircuitBreaker acm =
        CircuitBreaker.builder().name("acm").consecutiveFailures(2).openDuration(Duration.ofHours(1)).build();
    AtomicInteger calls = new AtomicInteger();
    ProvisioningPlan plan =
        ProvisioningPlan.builder("tenant", "1")
            .step(
                ProvisioningStep.of(
                        "certificate",
                        ctx -> {
                          calls.incrementAndGet();
                          throw new IOException("ACM is down");
                        })
                    .withPolicies(
                        Policies.<String>builder().retry(RetryPolicy.none()).circuitBreaker(acm).build()))
            .step("dns-record", ctx -> {}, "certificate")
            .build();

    plan.run(ProvisioningPlanTest.namespace("a"));
    plan.run(ProvisioningPlanTest.namespace("b"));
    PlanReport third = plan.run(ProvisioningPlanTest.namespace("c"));

    assertThat(calls).as("the third namespace's step never called ACM").hasValue(2);
    assertThat(third.status()).isEqualTo(PlanStatus.FAILED);
    assertThat(third.step("certificate").error()).isInstanceOf(CallNotPermittedException.class);
    assertThat(third.step("certificate").attempts()).isZero();
    assertThat(third.step("dns-record").status()).isEqualTo(StepStatus.SKIPPED);
  }

  @Test
  void withRetryAndWithPoliciesReplaceEachOther() {
    ProvisioningStep step = ProvisioningStep.of("s", ctx -> {});
    Policies<String> policies = Policies.<String>builder().retry(QUICK).build();
    assertThat(step.withPolicies(policies).retryPolicy()).isNull();
    assertThat(step.withPolicies(policies).withRetry(QUICK).policies()).isNull();
    assertThat(step.withPolicies(policies).withTimeout(Duration.ofSeconds(1)).policies())
        .isSameAs(policies);
  }
}
