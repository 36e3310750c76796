package dev.fanout.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryPolicy;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The plan graph (validation, order) and one plan run, without Kubernetes. */
class ProvisioningPlanTest {
  private static final Namespace NS = namespace("test101");
  private static final StepAction NOTHING = ctx -> {};

  static Namespace namespace(String name) {
    return new NamespaceBuilder()
        .withNewMetadata()
        .withName(name)
        .withUid(name + "-uid")
        .endMetadata()
        .build();
  }

  // --- Bad input, rejected at build time -------------------------------------------------------

  @Test
  void aCycleIsRejectedWithTheCycleNamed() {
    ProvisioningPlan.Builder plan =
        ProvisioningPlan.builder("tenant", "1")
            .step("certificate", NOTHING, "dns-record")
            .step("sqs-queues", NOTHING)
            .step("dns-record", NOTHING, "kong-routes")
            .step("kong-routes", NOTHING, "certificate");

    assertThatThrownBy(plan::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "plan 'tenant' has a dependency cycle: certificate -> dns-record -> kong-routes ->"
                + " certificate (each step depends on the next)");
  }

  @Test
  void aStepDependingOnItselfIsACycle() {
    assertThatThrownBy(() -> ProvisioningPlan.builder("p", "1").step("a", NOTHING, "a").build())
        .hasMessageContaining("dependency cycle: a -> a");
  }

  @Test
  void aMissingDependencyIsRejectedWithTheStepNamed() {
    ProvisioningPlan.Builder plan =
        ProvisioningPlan.builder("tenant", "1")
            .step("certificate", NOTHING)
            .step("dns-record", NOTHING, "certifcate");

    assertThatThrownBy(plan::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "step 'dns-record' of plan 'tenant' depends on 'certifcate', which is not a step of"
                + " the plan; its steps: [certificate, dns-record]");
  }

  @Test
  void otherBadInputIsRejectedNamingTheFieldAndValue() {
    assertThatThrownBy(
            () -> ProvisioningPlan.builder("p", "1").step("a", NOTHING).step("a", NOTHING).build())
        .hasMessage("plan 'p' declares step 'a' twice");
    assertThatThrownBy(() -> ProvisioningPlan.builder("p", "1").build())
        .hasMessage("plan 'p' must have at least one step");
    assertThatThrownBy(() -> ProvisioningPlan.builder("no spaces", "1"))
        .hasMessageContaining("plan name must be 1 to 63")
        .hasMessageContaining("was 'no spaces'");
    assertThatThrownBy(() -> ProvisioningPlan.builder("p", " "))
        .hasMessage("version of plan 'p' must not be blank, was ' '");
    assertThatThrownBy(() -> ProvisioningStep.of("-a", NOTHING)).hasMessageContaining("was '-a'");
    assertThatThrownBy(() -> ProvisioningStep.of("a", NOTHING).after("b", "b"))
        .hasMessage("dependsOn of step 'a' names 'b' twice: [b, b]");
    assertThatThrownBy(() -> ProvisioningStep.of("a", NOTHING).withTimeout(Duration.ZERO))
        .hasMessage("timeout of step 'a' must be positive (or null for the plan's), was PT0S");
    assertThatThrownBy(
            () -> ProvisioningPlan.builder("p", "1").defaultTimeout(Duration.ofSeconds(-1)))
        .hasMessage("defaultTimeout must be positive (or null for none), was PT-1S");
  }

  @Test
  void stepsComeAfterTheirDependenciesAndKeepDeclarationOrderOtherwise() {
    ProvisioningPlan plan = originalPlan(NOTHING);

    assertThat(plan.stepNames())
        .containsExactly(
            "certificate",
            "dns-record",
            "sqs-queues",
            "sns-topics",
            "kong-routes",
            "zadig-workflows");
    assertThat(plan.dependenciesOf("dns-record")).containsExactly("certificate");
    assertThat(plan.dependenciesOf("sqs-queues")).isEmpty();

    ProvisioningPlan chain =
        ProvisioningPlan.builder("chain", "1")
            .step("c", NOTHING, "b")
            .step("b", NOTHING, "a")
            .step("a", NOTHING)
            .build();
    assertThat(chain.stepNames()).containsExactly("a", "b", "c");
    assertThat(chain.dependenciesOf("c")).containsExactlyInAnyOrder("a", "b");
  }

  @Test
  void aNullDependencyNameIsRejectedWithTheStepNamed() {
    assertThatThrownBy(
            () -> ProvisioningPlan.builder("tenant", "1").step("dns-record", NOTHING, (String) null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("dependsOn of step 'dns-record' must not be null");
    assertThatThrownBy(() -> ProvisioningStep.of("dns-record", NOTHING).after("a", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("dependsOn of step 'dns-record' must not be null");
  }

  @Test
  void aVeryDeepPlanIsOrderedWithoutOverflowingTheStack() {
    int depth = 100_000;
    ProvisioningPlan.Builder builder = ProvisioningPlan.builder("deep", "1");
    for (int i = depth - 1; i > 0; i--) { // declared backwards: every step waits for a later one
      builder.step("s" + i, NOTHING, "s" + (i - 1));
    }
    builder.step("s0", NOTHING);

    ProvisioningPlan plan = builder.build();

    List<String> names = plan.stepNames();
    assertThat(names).hasSize(depth);
    for (int i = 0; i < depth; i++) {
      assertThat(names.get(i)).isEqualTo("s" + i);
    }
    assertThat(plan.dependenciesOf("s3")).containsExactlyInAnyOrder("s0", "s1", "s2");
    assertThat(plan.dependenciesOf("s" + (depth - 1))).hasSize(depth - 1);
  }

  @Test
  void aLongCycleInADeepPlanIsNamed() {
    int depth = 50_000;
    ProvisioningPlan.Builder builder = ProvisioningPlan.builder("deep", "1");
    for (int i = 0; i < depth; i++) {
      builder.step("s" + i, NOTHING, "s" + ((i + 1) % depth));
    }
    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("plan 'deep' has a dependency cycle: s0 -> s1 -> s2 -> ")
        .hasMessageEndingWith(" -> s49999 -> s0 (each step depends on the next)");
  }

  // --- Runs ------------------------------------------------------------------------------------

  /** A tenant's plan: five resource kinds in parallel, DNS after the certificate. */
  static ProvisioningPlan originalPlan(StepAction action) {
    return ProvisioningPlan.builder("tenant", "1")
        .step("certificate", action)
        .step("dns-record", action, "certificate")
        .step("sqs-queues", action)
        .step("sns-topics", action)
        .step("kong-routes", action)
        .step("zadig-workflows", action)
        .build();
  }

  @Test
  void independentStepsRunInParallelAndADependantWaitsForItsDependency() {
    StepRecorder recorder = new StepRecorder();
    // The five independent steps each wait (up to 10 s) until all five have started, so the run
    // succeeds only if they run at once, however late their threads get a CPU.
    StepAction together = recorder.meeting(new CountDownLatch(5), Duration.ofSeconds(10));
    StepAction after = recorder.sleeping(Duration.ZERO);
    ProvisioningPlan plan =
        originalPlan(ctx -> (ctx.step().equals("dns-record") ? after : together).run(ctx));

    PlanReport report = plan.run(NS);

    assertThat(report.status()).isEqualTo(PlanStatus.SUCCEEDED);
    assertThat(report.stepsWith(StepStatus.SUCCEEDED)).hasSize(6);
    var byStep =
        recorder.executions.stream()
            .collect(java.util.stream.Collectors.toMap(StepRecorder.Execution::step, e -> e));
    long latestIndependentStart =
        List.of("certificate", "sqs-queues", "sns-topics", "kong-routes", "zadig-workflows")
            .stream()
            .mapToLong(s -> byStep.get(s).startNanos())
            .max()
            .orElseThrow();
    long earliestIndependentEnd =
        List.of("certificate", "sqs-queues", "sns-topics", "kong-routes", "zadig-workflows")
            .stream()
            .mapToLong(s -> byStep.get(s).endNanos())
            .min()
            .orElseThrow();
    assertThat(latestIndependentStart)
        .as("all five started before any ended")
        .isLessThan(earliestIndependentEnd);
    assertThat(byStep.get("dns-record").startNanos())
        .isGreaterThanOrEqualTo(byStep.get("certificate").endNanos());
    assertThat(report.summary())
        .startsWith("namespace test101: plan tenant@1 succeeded, 6 step(s) in ");
  }

  @Test
  void aFailedStepIsRetriedThenReportedWithItsDependantsSkippedWhileOthersGoOn() {
    StepRecorder recorder = new StepRecorder();
    RetryPolicy threeQuickAttempts =
        RetryPolicy.builder().maxAttempts(3).backoff(Backoff.fixed(Duration.ofMillis(5))).build();
    ProvisioningPlan plan =
        ProvisioningPlan.builder("tenant", "1")
            .step("certificate", recorder.failing(Integer.MAX_VALUE, ns -> true, Duration.ZERO))
            .step("dns-record", recorder.sleeping(Duration.ZERO), "certificate")
            .step("health-check", recorder.sleeping(Duration.ZERO), "dns-record")
            .step(ProvisioningStep.of("sqs-queues", recorder.failing(2, ns -> true, Duration.ZERO)))
            .step("sns-topics", recorder.sleeping(Duration.ofMillis(50)))
            .defaultRetry(threeQuickAttempts)
            .build();

    PlanReport report = plan.run(NS);

    assertThat(report.status()).isEqualTo(PlanStatus.FAILED);
    assertThat(report.step("certificate").status()).isEqualTo(StepStatus.FAILED);
    assertThat(report.step("certificate").attempts()).isEqualTo(3);
    assertThat(report.step("certificate").error()).hasMessageContaining("attempt 3");
    assertThat(report.stepsWith(StepStatus.SKIPPED)).containsExactly("dns-record", "health-check");
    assertThat(recorder.starts("test101", "dns-record")).isZero();
    assertThat(report.step("sqs-queues").status()).isEqualTo(StepStatus.SUCCEEDED);
    assertThat(report.step("sqs-queues").attempts()).isEqualTo(3);
    assertThat(report.step("sns-topics").status()).isEqualTo(StepStatus.SUCCEEDED);
    assertThat(report.summary())
        .contains("failed in")
        .contains("certificate failed after 3 attempt(s) (IllegalStateException: simulated failure")
        .endsWith("; skipped: dns-record, health-check");
  }

  @Test
  void aStepPastItsTimeoutIsInterruptedAndItsDependantsSkipped() {
    StepRecorder recorder = new StepRecorder();
    ProvisioningPlan plan =
        ProvisioningPlan.builder("tenant", "1")
            .step(
                ProvisioningStep.of("certificate", recorder.sleeping(Duration.ofHours(1)))
                    .withTimeout(Duration.ofMillis(100)))
            .step("dns-record", NOTHING, "certificate")
            .step("sqs-queues", recorder.sleeping(Duration.ofMillis(10)))
            .defaultRetry(RetryPolicy.none())
            .build();

    PlanReport report = plan.run(NS);

    assertThat(report.step("certificate").status()).isEqualTo(StepStatus.TIMED_OUT);
    assertThat(report.step("certificate").error())
        .isInstanceOf(TimeoutException.class)
        .hasMessage("step 'certificate' of namespace 'test101' timed out after PT0.1S");
    assertThat(report.step("dns-record").status()).isEqualTo(StepStatus.SKIPPED);
    assertThat(report.step("sqs-queues").status()).isEqualTo(StepStatus.SUCCEEDED);
    assertThat(recorder.interrupted).hasValue(1);
    assertThat(recorder.running).hasValue(0);
  }

  @Test
  void interruptingTheRunCancelsRunningStepsAndNeverStartsTheOthers() throws Exception {
    StepRecorder recorder = new StepRecorder();
    TrackingThreadFactory threads = new TrackingThreadFactory();
    ProvisioningPlan plan = originalPlan(recorder.sleeping(Duration.ofHours(1)));
    AtomicReference<PlanReport> report = new AtomicReference<>();
    AtomicReference<Boolean> interruptKept = new AtomicReference<>();
    Thread runner =
        Thread.ofVirtual()
            .start(
                () -> {
                  report.set(
                      new dev.fanout.k8s.internal.PlanRunner(
                              plan, threads, Duration.ofSeconds(5), (p, s, st, n) -> {})
                          .run(NS));
                  interruptKept.set(Thread.currentThread().isInterrupted());
                });
    await().until(() -> recorder.running.get() == 5);

    runner.interrupt();
    runner.join(Duration.ofSeconds(10));

    assertThat(report.get().status()).isEqualTo(PlanStatus.CANCELLED);
    assertThat(report.get().stepsWith(StepStatus.CANCELLED)).hasSize(6);
    assertThat(report.get().step("dns-record").attempts()).as("never started").isZero();
    assertThat(report.get().step("certificate").attempts()).isEqualTo(1);
    assertThat(recorder.interrupted).hasValue(5);
    assertThat(recorder.running).hasValue(0);
    assertThat(threads.created()).isEqualTo(5);
    assertThat(threads.alive()).as("no step outlives its run").isEmpty();
    assertThat(interruptKept.get()).isTrue();
  }

  @Test
  void aStepReadsTheOutputOfItsDependenciesOnly() {
    AtomicReference<String> seenByDns = new AtomicReference<>();
    CountDownLatch rejected = new CountDownLatch(1);
    ProvisioningPlan plan =
        ProvisioningPlan.builder("tenant", "1")
            .step("certificate", ctx -> ctx.setOutput("arn:aws:acm:cert/" + ctx.namespace()))
            .step(
                "dns-record",
                ctx -> seenByDns.set(ctx.output("certificate", String.class).orElseThrow()),
                "certificate")
            .step(
                "sqs-queues",
                ctx -> {
                  try {
                    ctx.output("certificate", String.class);
                  } catch (IllegalArgumentException expected) {
                    rejected.countDown();
                  }
                })
            .build();

    PlanReport report = plan.run(NS);

    assertThat(report.succeeded()).isTrue();
    assertThat(seenByDns.get()).isEqualTo("arn:aws:acm:cert/test101");
    assertThat(rejected.getCount()).isZero();
  }
}
