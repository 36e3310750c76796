package dev.fanout.k8s.internal;

import dev.fanout.Policies;
import dev.fanout.k8s.PlanReport;
import dev.fanout.k8s.PlanStatus;
import dev.fanout.k8s.ProvisioningPlan;
import dev.fanout.k8s.ProvisioningStep;
import dev.fanout.k8s.StepContext;
import dev.fanout.k8s.StepReport;
import dev.fanout.k8s.StepStatus;
import dev.fanout.retry.Outcome;
import io.fabric8.kubernetes.api.model.Namespace;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one plan for one namespace on the calling thread: starts each step on a thread of its own
 * once its dependencies succeeded, skips the dependants of a failed step, interrupts steps that
 * pass their timeout, and on interruption of the calling thread cancels the run. It returns only
 * when every step thread it started has ended (or, for a step that ignores interruption, when the
 * cancel grace has passed), so no step outlives its run.
 *
 * <p>All bookkeeping happens on the calling thread; step threads only hand their outcome over a
 * queue. That hand-over, and {@link Thread#start()}, order a step's output before its dependants.
 *
 * <p>Why this class is a little over 500 lines: one plan run ({@code Run}) and the context its
 * steps see ({@code Context}) share the run's dependency bookkeeping and cancellation, kept
 * together as nested classes.
 */
public final class PlanRunner {
  private static final Logger log = LoggerFactory.getLogger(PlanRunner.class);

  /** How long cancelled steps get to end when nobody says otherwise. */
  public static final Duration DEFAULT_CANCEL_GRACE = Duration.ofSeconds(10);

  /** Told of each step that ends, for meters. Called on the plan's thread. */
  @FunctionalInterface
  public interface StepObserver {
    StepObserver NONE = (plan, step, status, nanos) -> {};

    /**
     * A step ended ({@code nanos} is how long it ran, 0 for a step that never ran).
     */
    void stepEnded(String plan, String step, StepStatus status, long nanos);
  }

  private final ProvisioningPlan plan;
  private final ThreadFactory threads;
  private final long cancelGraceNanos;
  private final StepObserver observer;
  private final Map<Thread, String> strays;
  private final List<ProvisioningStep> steps;
  private final int[][] dependants;
  private final int[] dependencyCounts;

  public PlanRunner(
      ProvisioningPlan plan, ThreadFactory threads, Duration cancelGrace, StepObserver observer) {
    this(plan, threads, cancelGrace, observer, new ConcurrentHashMap<>());
  }

  /**
   * A runner that adds each step thread that ignores interruption past the cancel grace to
   * {@code strays} (with {@code namespace/step}), so its owner can report it.
   */
  public PlanRunner(
      ProvisioningPlan plan,
      ThreadFactory threads,
      Duration cancelGrace,
      StepObserver observer,
      Map<Thread, String> strays) {
    this.strays = Objects.requireNonNull(strays, "strays");
    this.plan = Objects.requireNonNull(plan, "plan");
    this.threads = Objects.requireNonNull(threads, "threads");
    this.cancelGraceNanos = Objects.requireNonNull(cancelGrace, "cancelGrace").toNanos();
    this.observer = Objects.requireNonNull(observer, "observer");
    this.steps = plan.steps();
    int n = steps.size();
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < n; i++) {
      index.put(steps.get(i).name(), i);
    }
    List<List<Integer>> down = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      down.add(new ArrayList<>());
    }
    dependencyCounts = new int[n];
    for (int i = 0; i < n; i++) {
      for (String dependency : steps.get(i).dependsOn()) {
        down.get(index.get(dependency)).add(i);
        dependencyCounts[i]++;
      }
    }
    dependants = new int[n][];
    for (int i = 0; i < n; i++) {
      dependants[i] = down.get(i).stream().mapToInt(Integer::intValue).toArray();
    }
  }

  /** The plan this runner runs. */
  public ProvisioningPlan plan() {
    return plan;
  }

  /**
   * Runs the plan for {@code namespace}. If the calling thread is interrupted (before or during
   * the run) the run is cancelled and the interrupt status is set again on return.
   */
  public PlanReport run(Namespace namespace) {
    Objects.requireNonNull(namespace, "namespace");
    String name =
        Objects.requireNonNull(
            Objects.requireNonNull(namespace.getMetadata(), "namespace metadata").getName(),
            "namespace name");
    return new Run(name, namespace).execute();
  }

  /** A step's outcome, handed from its thread to the plan's thread. */
  private record Done(int step, Outcome<?> outcome, long startNanos, long endNanos) {}

  /** The state of one run; used by the plan's thread only (and the contexts by step threads). */
  private final class Run {
    final String namespaceName;
    final Namespace namespace;
    final int n = steps.size();
    final StepStatus[] status = new StepStatus[n];
    final int[] attempts = new int[n];
    final long[] startNanos = new long[n];
    final long[] endNanos = new long[n];
    final long[] deadlines = new long[n]; // 0: none
    final boolean[] timedOut = new boolean[n];
    final Throwable[] errors = new Throwable[n];
    final Thread[] running = new Thread[n];
    final int[] waitingFor = dependencyCounts.clone();
    final AtomicReferenceArray<@Nullable Object> outputs = new AtomicReferenceArray<>(n);
    final LinkedBlockingQueue<Done> done = new LinkedBlockingQueue<>();
    final ArrayDeque<Integer> ready = new ArrayDeque<>();
    final long planStart = System.nanoTime();
    final Instant startedAt = Instant.now();
    int finished;
    int runningCount;
    boolean cancelled;

    Run(String namespaceName, Namespace namespace) {
      this.namespaceName = namespaceName;
      this.namespace = namespace;
    }

    PlanReport execute() {
      for (int i = 0; i < n; i++) {
        if (waitingFor[i] == 0) {
          ready.add(i);
        }
      }
      cancelled = Thread.interrupted();
      try {
        while (!cancelled && finished < n) {
          while (!ready.isEmpty()) {
            start(ready.poll());
          }
          if (runningCount == 0) {
            break; // cannot happen in an acyclic plan; kept so the loop can never spin
          }
          Done next = nextDone();
          if (next != null) {
            record(next);
          }
        }
      } catch (InterruptedException e) {
        cancelled = true;
      }
      if (cancelled) {
        cancelRest();
        Thread.currentThread().interrupt();
      }
      return report();
    }

    /** Waits for the next step to end; on a passed deadline, interrupts that step. */
    private @Nullable Done nextDone() throws InterruptedException {
      long nearest = Long.MAX_VALUE;
      for (int i = 0; i < n; i++) {
        if (running[i] != null && deadlines[i] != 0 && !timedOut[i]) {
          nearest = Math.min(nearest, deadlines[i] - System.nanoTime());
        }
      }
      if (nearest == Long.MAX_VALUE) {
        return done.take();
      }
      Done next = nearest <= 0 ? done.poll() : done.poll(nearest, TimeUnit.NANOSECONDS);
      if (next == null) {
        long now = System.nanoTime();
        for (int i = 0; i < n; i++) {
          Thread thread = running[i];
          if (thread != null && deadlines[i] != 0 && !timedOut[i] && now - deadlines[i] >= 0) {
            timedOut[i] = true;
            thread.interrupt();
          }
        }
      }
      return next;
    }

    private void start(int i) {
      ProvisioningStep step = steps.get(i);
      Context context = new Context(this, i);
      @SuppressWarnings("unchecked") // keyed by the namespace's name: a String is always accepted
      Policies<String> policies = (Policies<String>) plan.policiesOf(step);
      Runnable body =
          () -> {
            long begin = System.nanoTime();
            Outcome<?> outcome;
            try {
              outcome =
                  policies.execute(
                      namespaceName,
                      () -> {
                        context.attempt++;
                        step.action().run(context);
                        return null;
                      });
            } catch (Throwable unexpected) { // execute reports everything; this is a last resort
              outcome =
                  new Outcome.Failure<>(
                      unexpected,
                      Outcome.Reason.NOT_RETRYABLE,
                      Math.max(1, context.attempt),
                      0);
            }
            done.add(new Done(i, outcome, begin, System.nanoTime()));
          };
      Thread thread;
      try {
        thread = threads.newThread(body);
        if (thread == null) {
          throw new IllegalStateException("the step thread factory returned null");
        }
        thread.start();
      } catch (RuntimeException | OutOfMemoryError e) {
        long now = System.nanoTime();
        startNanos[i] = now;
        endNanos[i] = now;
        fail(i, StepStatus.FAILED, e);
        return;
      }
      running[i] = thread;
      runningCount++;
      Duration timeout = plan.timeoutOf(step);
      if (timeout != null) {
        long deadline = System.nanoTime() + timeout.toNanos();
        deadlines[i] = deadline == 0 ? 1 : deadline;
      }
    }

    private void record(Done d) {
      int i = d.step();
      Thread ended = running[i];
      running[i] = null;
      if (ended != null) {
        awaitExit(ended);
      }
      runningCount--;
      startNanos[i] = d.startNanos();
      endNanos[i] = d.endNanos();
      attempts[i] = d.outcome().attempts();
      switch (d.outcome()) {
        case Outcome.Success<?> s -> {
          status[i] = StepStatus.SUCCEEDED;
          finished++;
          observer.stepEnded(
              plan.name(),
              steps.get(i).name(),
              StepStatus.SUCCEEDED,
              d.endNanos() - d.startNanos());
          for (int dependant : dependants[i]) {
            if (--waitingFor[dependant] == 0 && status[dependant] == null) {
              ready.add(dependant);
            }
          }
        }
        case Outcome.Failure<?> f -> {
          if (timedOut[i]) {
            Duration timeout = Objects.requireNonNull(plan.timeoutOf(steps.get(i)));
            TimeoutException error =
                new TimeoutException(
                    "step '"
                        + steps.get(i).name()
                        + "' of namespace '"
                        + namespaceName
                        + "' timed out after "
                        + timeout);
            error.addSuppressed(f.error());
            fail(i, StepStatus.TIMED_OUT, error);
          } else if (cancelled) {
            status[i] = StepStatus.CANCELLED;
            errors[i] = f.error();
            finished++;
            observer.stepEnded(
                plan.name(),
                steps.get(i).name(),
                StepStatus.CANCELLED,
                d.endNanos() - d.startNanos());
          } else {
            fail(i, StepStatus.FAILED, f.error());
          }
        }
      }
    }

    /** Marks step {@code i} failed and every step that depends on it, directly or not, skipped. */
    private void fail(int i, StepStatus failure, Throwable error) {
      status[i] = failure;
      errors[i] = error;
      finished++;
      observer.stepEnded(plan.name(), steps.get(i).name(), failure, endNanos[i] - startNanos[i]);
      ArrayDeque<Integer> todo = new ArrayDeque<>();
      for (int dependant : dependants[i]) {
        todo.add(dependant);
      }
      while (!todo.isEmpty()) {
        int j = todo.poll();
        if (status[j] == null && running[j] == null) {
          status[j] = StepStatus.SKIPPED;
          finished++;
          observer.stepEnded(plan.name(), steps.get(j).name(), StepStatus.SKIPPED, 0);
          for (int dependant : dependants[j]) {
            todo.add(dependant);
          }
        }
      }
    }

    /**
     * Interrupts the running steps and waits (ignoring further interrupts) up to the grace for
     * them to end; steps that never started are cancelled.
     */
    /**
     * Waits for a step thread that has just reported its end to terminate, so that no step
     * thread outlives its run; an interrupt meanwhile is kept for the caller.
     */
    private void awaitExit(Thread thread) {
      boolean interrupted = false;
      long deadline = System.nanoTime() + cancelGraceNanos;
      while (thread.isAlive() && System.nanoTime() - deadline < 0) {
        try {
          thread.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }

    private void cancelRest() {
      for (Thread thread : running) {
        if (thread != null) {
          thread.interrupt();
        }
      }
      long graceEnd = System.nanoTime() + cancelGraceNanos;
      while (runningCount > 0) {
        long left = graceEnd - System.nanoTime();
        if (left <= 0) {
          break;
        }
        try {
          Done d = done.poll(left, TimeUnit.NANOSECONDS);
          if (d != null) {
            record(d);
          }
        } catch (InterruptedException again) {
          // Already cancelling; the interrupt status is set again on return.
        }
      }
      long now = System.nanoTime();
      for (int i = 0; i < n; i++) {
        if (running[i] != null) {
          log.error(
              "step '{}' of namespace '{}' ignored interruption for {}; it still runs on {}",
              steps.get(i).name(),
              namespaceName,
              Duration.ofNanos(cancelGraceNanos),
              running[i]);
          strays.put(running[i], namespaceName + "/" + steps.get(i).name());
          running[i] = null;
          status[i] = StepStatus.CANCELLED;
          endNanos[i] = now;
          finished++;
          observer.stepEnded(plan.name(), steps.get(i).name(), StepStatus.CANCELLED, 0);
        } else if (status[i] == null) {
          status[i] = StepStatus.CANCELLED;
          finished++;
          observer.stepEnded(plan.name(), steps.get(i).name(), StepStatus.CANCELLED, 0);
        }
      }
    }

    private PlanReport report() {
      long end = System.nanoTime();
      List<StepReport> reports = new ArrayList<>(n);
      boolean failed = false;
      for (int i = 0; i < n; i++) {
        StepStatus s = Objects.requireNonNull(status[i], "unfinished step");
        failed |= s.isFailure();
        boolean ran = startNanos[i] != 0;
        reports.add(
            new StepReport(
                steps.get(i).name(),
                s,
                attempts[i],
                ran ? Duration.ofNanos(Math.max(0, startNanos[i] - planStart)) : Duration.ZERO,
                ran ? Duration.ofNanos(Math.max(0, endNanos[i] - startNanos[i])) : Duration.ZERO,
                errors[i]));
      }
      PlanStatus planStatus =
          cancelled ? PlanStatus.CANCELLED : failed ? PlanStatus.FAILED : PlanStatus.SUCCEEDED;
      return new PlanReport(
          namespaceName,
          plan.name(),
          plan.version(),
          planStatus,
          startedAt,
          Duration.ofNanos(end - planStart),
          reports);
    }
  }

  /** The {@link StepContext} of one step in one run. */
  private final class Context implements StepContext {
    private final Run run;
    private final int index;
    volatile int attempt; // written by the step's thread, read by it and the plan's thread

    Context(Run run, int index) {
      this.run = run;
      this.index = index;
    }

    @Override
    public String namespace() {
      return run.namespaceName;
    }

    @Override
    public Namespace resource() {
      return run.namespace;
    }

    @Override
    public String step() {
      return steps.get(index).name();
    }

    @Override
    public String plan() {
      return plan.name();
    }

    @Override
    public String planVersion() {
      return plan.version();
    }

    @Override
    public int attempt() {
      return attempt;
    }

    @Override
    public void setOutput(Object value) {
      run.outputs.set(index, Objects.requireNonNull(value, "value must not be null"));
    }

    @Override
    public <T> Optional<T> output(String step, Class<T> type) {
      Objects.requireNonNull(step, "step must not be null");
      Objects.requireNonNull(type, "type must not be null");
      if (!plan.dependenciesOf(step()).contains(step)) {
        throw new IllegalArgumentException(
            "step '"
                + step()
                + "' can only read the outputs of its dependencies "
                + plan.dependenciesOf(step())
                + ", not of '"
                + step
                + "'");
      }
      int i = plan.stepNames().indexOf(step);
      return Optional.ofNullable(type.cast(run.outputs.get(i)));
    }

    @Override
    public String toString() {
      return "StepContext[" + run.namespaceName + "/" + step() + ", attempt " + attempt + "]";
    }
  }
}
