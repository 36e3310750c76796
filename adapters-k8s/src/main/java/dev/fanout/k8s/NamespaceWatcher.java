package dev.fanout.k8s;

import dev.fanout.k8s.internal.ApiErrors;
import dev.fanout.k8s.internal.Reconciler;
import dev.fanout.k8s.internal.WatcherCounters;
import dev.fanout.k8s.internal.WatcherMeters;
import dev.fanout.k8s.internal.WatcherSettings;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.Jitter;
import dev.fanout.retry.RetryPolicy;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.RequestConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provisions every new Kubernetes namespace with a {@link ProvisioningPlan}, many namespaces at
 * once, and cleans up after deleted ones: the controller pattern of client-go and the Java
 * Operator SDK, for namespaces, on fabric8. A fabric8 informer watches Namespaces (optionally
 * those matching a label selector) and feeds a keyed {@link dev.fanout.WorkerPool}.
 *
 * {@snippet file="dev/fanout/k8s/snippets/NamespaceWatcherSnippets.java" region="watch"}
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li><b>Parallel.</b> Up to {@link Builder#maxConcurrentNamespaces maxConcurrentNamespaces}
 *       namespaces are processed at once, and within one, independent steps run in parallel:
 *       three namespaces take about as long as one.
 *   <li><b>One at a time per namespace, events coalesced</b> (the workqueue's guarantees). One
 *       namespace is never processed twice at once; events that arrive while it is queued merge
 *       into the queued run, and events that arrive while it runs make one more run afterwards.
 *       The informer's thread only records the event and hands the name over: it never waits.
 *   <li><b>Level-based.</b> A run looks at the namespace as the informer's cache has it now, not
 *       at the event that caused it, so a stale or replayed event does no harm.
 *   <li><b>Provisioned once.</b> When the creation plan succeeds, the namespace is marked with
 *       the annotation {@link #annotationKey()} = the plan's {@linkplain
 *       ProvisioningPlan#version() version}. Marked namespaces are left alone by re-lists,
 *       resyncs, replayed events and restarted or newly elected watchers. Marking happens after
 *       the steps, so a crash in between runs the plan again later: steps must be idempotent.
 *   <li><b>Deletion cancels creation.</b> A namespace deleted (or set Terminating) while it is
 *       being created has its running steps interrupted and its waiting steps dropped; then the
 *       deletion plan runs for it, once. A delete event for a namespace that still exists with
 *       the same UID (it only stopped matching the label selector) does not run the deletion
 *       plan.
 *   <li><b>Failures stay local.</b> A failed step is retried by its {@link
 *       dev.fanout.retry.RetryPolicy}, then reported with its dependants skipped; the namespace
 *       stays unmarked, so the next resync or change tries the plan again. Other namespaces go on.
 *   <li><b>Graceful shutdown.</b> {@link #close()} stops the informer, lets queued and running
 *       namespaces finish for up to the {@linkplain Builder#shutdownTimeout shutdown timeout},
 *       then cancels what is left and gives interrupted steps the {@linkplain Builder#cancelGrace
 *       cancel grace} to end: it returns within about {@code shutdownTimeout + cancelGrace}. If
 *       every step answers interruption, no worker or step thread of the watcher runs when it
 *       returns; a step that ignores interruption cannot be stopped, and is logged at ERROR and
 *       listed by {@link #stillRunning()} until it ends.
 *   <li><b>One leader.</b> With {@link Builder#leaderElection leader election}, several replicas
 *       can run and only the holder of the Lease watches and provisions. A replica that loses the
 *       lease cancels its in-flight work at once and rejoins the election; one that closes drains
 *       its work first, then releases the lease so another takes over at once. As with client-go,
 *       a Lease is not a lock: a leader learns of its loss only at its next renewal, and a call
 *       slower than the lease lets another replica take over meanwhile, so two replicas can
 *       briefly both run. Only namespaces in flight at that moment are affected (the annotation
 *       guards the rest); their steps may run twice, even at once, so keep them idempotent.
 * </ul>
 *
 * <b>Deletions while nobody watches.</b> By default a namespace deleted while no replica runs
 * (a restart, a failover) is never seen as deleted, so its deletion plan does not run. With
 * {@link Builder#cleanupFinalizer cleanupFinalizer(true)} the watcher holds each namespace with a
 * finalizer until its clean-up succeeded, and no deletion is missed.
 *
 * <h2>Logs and meters</h2>
 *
 * One INFO line per plan run, the plan's {@linkplain PlanReport#summary() summary}; the lines per
 * namespace event ({@code Creating the namespace test101}, {@code Processing namespace creation:
 * test101}) are at DEBUG. With a {@link Builder#meterRegistry registry}: {@code fanout.k8s.namespaces.inflight},
 * {@code fanout.k8s.leader}, {@code fanout.k8s.plans}, {@code fanout.k8s.step.duration}, {@code
 * fanout.k8s.steps.not.run}, and the pool's {@code fanout.pool.*}, all tagged with the watcher's
 * name.
 *
 * <p>The watcher does not close the {@link KubernetesClient} it was given. Memory consistency:
 * a plan run of a namespace happens-before the next run of the same namespace.
 *
 * <p>Why this class is long (~800 lines): it is the module's public face, and most of it is javadoc
 * and the nested {@code Builder}; the mechanisms live in {@code dev.fanout.k8s.internal} ({@code
 * Reconciler}, {@code PlanRunner}, {@code Dag}, {@code ApiErrors}) and in {@link LeaderElection};
 * what stays here is the lifecycle (start, leadership hand-over, close) they share.
 */
public final class NamespaceWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NamespaceWatcher.class);

  /** The annotation key prefix; the plan's name follows it. */
  public static final String ANNOTATION_PREFIX = "provisioning.fanout.dev/";

  /** Between attempts to record a completion mark: 200 ms doubling up to 30 s, full jitter. */
  private static final Backoff MARK_BACKOFF =
      Backoff.exponential(Duration.ofMillis(200), 2.0, Duration.ofSeconds(30))
          .withJitter(Jitter.FULL);

  private enum State {
    NEW,
    STARTED,
    CLOSED
  }

  private final WatcherSettings settings;
  private final @Nullable LeaderElection election;
  private final WatcherCounters counters = new WatcherCounters();
  private final @Nullable WatcherMeters meters;

  private final ReentrantLock lock = new ReentrantLock();
  // Guarded by lock.
  private State state = State.NEW;
  private volatile @Nullable Reconciler term; // written under lock; the gauge reads it without
  private @Nullable CompletableFuture<?> electionRun;

  private volatile boolean leader;
  private volatile @Nullable String currentLeader;

  /** Step threads that ignored interruption past the cancel grace, with what they run. */
  private final Map<Thread, String> strayThreads = new ConcurrentHashMap<>();

  // Leader election only.
  private final @Nullable KubernetesClient electionClient;
  private final @Nullable ScheduledExecutorService watchdog;

  /** Wall-clock millis by which the lease must be renewed again; written on each renewal. */
  private volatile long renewBy;

  /** A term being drained by close(), while the lease is still held. */
  private volatile @Nullable Reconciler closing;

  private NamespaceWatcher(Builder b, ProvisioningPlan creationPlan) {
    String annotationKey =
        b.annotationKey != null ? b.annotationKey : ANNOTATION_PREFIX + creationPlan.name();
    ThreadFactory workers =
        b.threadFactory != null
            ? b.threadFactory
            : Thread.ofVirtual().name("fanout-" + b.name + "-", 0).factory();
    ThreadFactory steps =
        b.threadFactory != null
            ? b.threadFactory
            : Thread.ofVirtual().name("fanout-" + b.name + "-step-", 0).factory();
    this.settings =
        new WatcherSettings(
            b.name,
            b.client,
            withoutRetries(b.client, null),
            b.labelSelector,
            b.filter,
            creationPlan,
            b.deletionPlan,
            annotationKey,
            b.cleanupFinalizer,
            b.maxConcurrentNamespaces,
            b.shutdownTimeout,
            b.resyncPeriod,
            b.cancelGrace,
            workers,
            steps,
            b.apiRetry,
            MARK_BACKOFF,
            b.listener,
            b.registry,
            strayThreads);
    this.election = b.election;
    if (b.election == null) {
      this.electionClient = null;
      this.watchdog = null;
    } else {
      // Each election call must end well before the renew deadline: no retries inside a call,
      // and a request timeout of half the deadline (the loop tries again every retry period).
      this.electionClient =
          withoutRetries(b.client, Duration.ofMillis(b.election.renewDeadline().toMillis() / 2));
      this.watchdog =
          Executors.newSingleThreadScheduledExecutor(
              Thread.ofPlatform().daemon().name("fanout-" + b.name + "-lease-watchdog").factory());
    }
    this.meters =
        b.registry == null
            ? null
            : new WatcherMeters(b.registry, b.name, this::inFlight, () -> leader);
  }

  /** A builder for a watcher that uses {@code client} (which it does not close). */
  public static Builder builder(KubernetesClient client) {
    return new Builder(client);
  }

  /** The watcher's name, used in thread names, logs and the {@code name} meter tag. */
  public String name() {
    return settings.name();
  }

  /** The annotation that marks a namespace provisioned; its value is the plan's version. */
  public String annotationKey() {
    return settings.annotationKey();
  }

  /** The plan run for each new namespace. */
  public ProvisioningPlan creationPlan() {
    return settings.creationPlan();
  }

  /** The plan run after each deletion, or {@code null} if there is none. */
  public @Nullable ProvisioningPlan deletionPlan() {
    return settings.deletionPlan();
  }

  /** Whether {@code namespace} carries this watcher's annotation with the current plan version. */
  public boolean isProvisioned(Namespace namespace) {
    Map<String, String> annotations = namespace.getMetadata().getAnnotations();
    return annotations != null
        && settings.creationPlan().version().equals(annotations.get(settings.annotationKey()));
  }

  /**
   * Starts watching: at once without leader election, or once this replica is elected. Returns
   * without waiting; {@link #status()} tells when the informer has synced.
   *
   * @throws IllegalStateException if the watcher was started or closed before
   */
  public void start() {
    lock.lock();
    try {
      if (state != State.NEW) {
        throw new IllegalStateException(
            "namespace watcher '" + settings.name() + "' can only be started once, it is " + state);
      }
      state = State.STARTED;
    } finally {
      lock.unlock();
    }
    if (election == null) {
      beginTerm();
    } else {
      log.info(
          "{}: {} joins the leader election for lease {}/{}",
          settings.name(),
          election.identity(),
          election.leaseNamespace(),
          election.leaseName());
      joinElection();
    }
  }

  /** A snapshot of the watcher's state and counters. */
  public WatcherStatus status() {
    Reconciler current;
    boolean running;
    lock.lock();
    try {
      current = term;
      running = state == State.STARTED;
    } finally {
      lock.unlock();
    }
    return new WatcherStatus(
        running,
        leader,
        current != null && current.synced(),
        current == null ? 0 : current.inFlight(),
        counters.provisioned.sum(),
        counters.markPending.get(),
        counters.alreadyProvisioned.sum(),
        counters.failed.sum(),
        counters.cancelled.sum(),
        counters.deleted.sum(),
        counters.deletionFailed.sum());
  }

  /** The identity of the current leader as last observed, or {@code null} if unknown or none. */
  public @Nullable String currentLeader() {
    return election == null ? null : currentLeader;
  }

  /**
   * Stops watching: stops the informer, lets queued and running namespaces finish for up to the
   * shutdown timeout, cancels what is left (interrupting running steps) and waits up to the cancel
   * grace for them to end (steps that ignore interruption are logged and listed by {@link
   * #stillRunning()}); then, with leader election, releases the lease so another replica takes
   * over at once. Idempotent.
   */
  @Override
  public void close() {
    Reconciler draining;
    CompletableFuture<?> run;
    lock.lock();
    try {
      if (state == State.CLOSED) {
        return;
      }
      state = State.CLOSED;
      draining = term;
      closing = draining; // the lease watchdog still guards it while it drains
      term = null;
      run = electionRun;
      electionRun = null;
    } finally {
      lock.unlock();
    }
    if (draining != null) {
      log.info(
          "{}: stopping; waiting up to {} for {} namespace(s) in flight",
          settings.name(),
          settings.shutdownTimeout(),
          draining.inFlight());
      try {
        draining.drain(); // still leader meanwhile, so no other replica starts the same work
      } finally {
        closing = null;
      }
    }
    leader = false;
    if (run != null) {
      run.cancel(true); // releases the lease (releaseOnCancel)
    }
    if (watchdog != null) {
      watchdog.shutdownNow();
    }
    if (meters != null) {
      meters.remove();
    }
    List<String> strays = stillRunning();
    if (strays.isEmpty()) {
      log.info("{}: stopped", settings.name());
    } else {
      log.error(
          "{}: stopped, but {} step(s) ignore interruption and still run: {}",
          settings.name(),
          strays.size(),
          strays);
    }
  }

  /**
   * The steps ({@code namespace/step}) whose threads still run although their run was cancelled
   * and the {@linkplain Builder#cancelGrace cancel grace} has passed: steps that ignore
   * interruption. No watcher can stop such a thread; it is logged at ERROR when it is given up
   * on, and listed here until it ends. Empty when every step answers interruption, in particular
   * after {@link #close()} returned.
   */
  public List<String> stillRunning() {
    strayThreads.keySet().removeIf(thread -> !thread.isAlive());
    return strayThreads.values().stream().sorted().toList();
  }

  @Override
  public String toString() {
    return "NamespaceWatcher[" + settings.name() + ", " + status() + "]";
  }

  // ---------------------------------------------------------------------------------------------

  private int inFlight() {
    Reconciler current = term;
    return current == null ? 0 : current.inFlight();
  }

  private void beginTerm() {
    Reconciler next;
    lock.lock();
    try {
      if (state != State.STARTED || term != null) {
        return;
      }
      next = new Reconciler(settings, counters, meters);
      term = next;
      leader = true;
    } finally {
      lock.unlock();
    }
    if (election != null) {
      watchLease(next);
    }
    next.start();
  }

  /**
   * Arms the check that ends {@code current} at the renew deadline unless the lease was renewed
   * by then. fabric8's elector checks its deadline only between calls; this check does not wait
   * for a call, so a leader stops (its steps interrupted and ended) before the lease expires and
   * another replica can take it over.
   */
  private void watchLease(Reconciler current) {
    ScheduledExecutorService timer = Objects.requireNonNull(watchdog);
    long delay = Math.max(0, renewBy - System.currentTimeMillis());
    try {
      timer.schedule(() -> checkLease(current), delay, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      log.debug("{}: closed; the lease watchdog is off", settings.name());
    }
  }

  private void checkLease(Reconciler current) {
    if (term != current && closing != current) {
      return; // that term ended already
    }
    long overdue = System.currentTimeMillis() - renewBy;
    if (overdue < 0) {
      watchLease(current);
      return;
    }
    log.warn(
        "{}: the lease was not renewed within the renew deadline ({}); stopping before another"
            + " replica can take it over",
        settings.name(),
        Objects.requireNonNull(election).renewDeadline());
    Reconciler draining = closing;
    if (draining == current) {
      leader = false;
      draining.abort();
      return;
    }
    endTerm();
    CompletableFuture<?> run;
    lock.lock();
    try {
      run = electionRun;
    } finally {
      lock.unlock();
    }
    if (run != null) {
      run.cancel(true); // rejoins the election (see joinElection)
    }
  }

  /** The lease was written with this replica as the holder at {@code renewTime}. */
  private void renewed(@Nullable ZonedDateTime renewTime) {
    long at = renewTime == null ? System.currentTimeMillis() : renewTime.toInstant().toEpochMilli();
    renewBy = at + Objects.requireNonNull(election).renewDeadline().toMillis();
  }

  /**
   * A client that shares {@code client}'s connection and settings but makes one try per call
   * (no retries of its own: the caller decides), with {@code requestTimeout} if given.
   */
  private static KubernetesClient withoutRetries(
      KubernetesClient client, @Nullable Duration requestTimeout) {
    RequestConfigBuilder config =
        new RequestConfigBuilder(client.getConfiguration().getRequestConfig())
            .withRequestRetryBackoffLimit(0);
    if (requestTimeout != null) {
      config.withRequestTimeout((int) Math.max(1, requestTimeout.toMillis()));
    }
    return client.newClient(config.build()).adapt(KubernetesClient.class);
  }

  private void endTerm() {
    Reconciler ending;
    lock.lock();
    try {
      ending = term;
      term = null;
      leader = false;
    } finally {
      lock.unlock();
    }
    if (ending != null) {
      log.warn("{}: lost the leadership; cancelling in-flight work", settings.name());
      ending.abort();
    }
  }

  private void joinElection() {
    LeaderElection e = Objects.requireNonNull(election);
    lock.lock();
    try {
      if (state != State.STARTED) {
        return;
      }
      CompletableFuture<?> run =
          Objects.requireNonNull(electionClient)
              .leaderElector()
              .withConfig(
                  new LeaderElectionConfigBuilder()
                      .withName(settings.name())
                      .withLock(
                          new RenewalTrackingLock(
                              new LeaseLock(e.leaseNamespace(), e.leaseName(), e.identity()),
                              this::renewed))
                      .withLeaseDuration(e.leaseDuration())
                      .withRenewDeadline(e.renewDeadline())
                      .withRetryPeriod(e.retryPeriod())
                      .withReleaseOnCancel(true)
                      .withLeaderCallbacks(
                          new LeaderCallbacks(
                              this::startedLeading, this::stoppedLeading, this::newLeader))
                      .build())
              .build()
              .start();
      electionRun = run;
      run.whenComplete(
          (ignored, error) -> {
            if (error != null && !(error instanceof CancellationException)) {
              log.warn(
                  "{}: leader election ended with an error; rejoining", settings.name(), error);
            }
            boolean rejoin;
            lock.lock();
            try {
              rejoin = state == State.STARTED && electionRun == run;
            } finally {
              lock.unlock();
            }
            if (rejoin) {
              endTerm();
              joinElection();
            }
          });
    } finally {
      lock.unlock();
    }
  }

  private void startedLeading() {
    log.info(
        "{}: {} is now the leader; starting to watch namespaces",
        settings.name(),
        Objects.requireNonNull(election).identity());
    beginTerm();
  }

  private void stoppedLeading() {
    endTerm();
  }

  private void newLeader(@Nullable String identity) {
    currentLeader = identity;
    log.info(
        "{}: the leader is {}",
        settings.name(),
        identity == null || identity.isEmpty() ? "none" : identity);
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Builds a {@link NamespaceWatcher}. Each setter checks its value at once (messages name the
   * setting and the bad value); {@link #build()} checks that a creation plan was given. Not
   * thread-safe.
   */
  public static final class Builder {
    /** The most namespaces a watcher accepts to process at once. */
    public static final int MAX_CONCURRENT_NAMESPACES = 10_000;

    private final KubernetesClient client;
    private String name = "namespace-watcher";
    private @Nullable String labelSelector;
    private Predicate<? super Namespace> filter = namespace -> true;
    private @Nullable ProvisioningPlan creationPlan;
    private @Nullable ProvisioningPlan deletionPlan;
    private @Nullable String annotationKey;
    private boolean cleanupFinalizer;
    private int maxConcurrentNamespaces = 16;
    private Duration shutdownTimeout = Duration.ofSeconds(30);
    private Duration resyncPeriod = Duration.ofMinutes(10);
    private Duration cancelGrace = Duration.ofSeconds(10);
    private @Nullable ThreadFactory threadFactory;
    private RetryPolicy apiRetry =
        RetryPolicy.builder()
            .name("k8s-api")
            .maxAttempts(3)
            .retryOn(ApiErrors::isTransient)
            .throttledWhen(ApiErrors::isThrottled)
            .retryAfter(ApiErrors::retryAfter)
            .maxThrottles(3)
            .throttleBackoff(
                Backoff.exponential(Duration.ofMillis(200), 2.0, Duration.ofSeconds(5))
                    .withJitter(Jitter.FULL))
            .build();
    private PlanListener listener = PlanListener.none();
    private @Nullable LeaderElection election;
    private @Nullable MeterRegistry registry;

    private Builder(KubernetesClient client) {
      this.client = Objects.requireNonNull(client, "client must not be null");
    }

    /**
     * The watcher's name for threads, logs and meters: 1 to 63 letters, digits, {@code -},
     * {@code _} and {@code .}; {@code namespace-watcher} unless set.
     */
    public Builder name(String name) {
      ProvisioningStep.requireName("name", name);
      this.name = name;
      return this;
    }

    /**
     * Watches only namespaces matching this label selector (server-side), such as {@code
     * fanout.dev/provision=true} or {@code team in (a,b)}; all namespaces unless set.
     */
    public Builder labelSelector(String labelSelector) {
      Objects.requireNonNull(labelSelector, "labelSelector must not be null");
      if (labelSelector.isBlank()) {
        throw new IllegalArgumentException(
            "labelSelector must not be blank, was '" + labelSelector + "'");
      }
      this.labelSelector = labelSelector;
      return this;
    }

    /**
     * Processes only namespaces for which {@code filter} is true (client-side, after the label
     * selector), for example to leave {@code kube-*} alone; all unless set. Called on the
     * informer's thread and in runs: keep it cheap and free of side effects.
     */
    public Builder filter(Predicate<? super Namespace> filter) {
      this.filter = Objects.requireNonNull(filter, "filter must not be null");
      return this;
    }

    /** The plan run for each new namespace; required. */
    public Builder creationPlan(ProvisioningPlan plan) {
      this.creationPlan = Objects.requireNonNull(plan, "creationPlan must not be null");
      return this;
    }

    /** The plan run after each deletion; none unless set. */
    public Builder deletionPlan(ProvisioningPlan plan) {
      this.deletionPlan = Objects.requireNonNull(plan, "deletionPlan must not be null");
      return this;
    }

    /**
     * The annotation that marks namespaces provisioned; {@value NamespaceWatcher#ANNOTATION_PREFIX}
     * followed by the creation plan's name unless set. A qualified name: an optional DNS-subdomain
     * prefix and {@code /}, then 1 to 63 letters, digits, {@code -}, {@code _} and {@code .}.
     */
    public Builder annotationKey(String key) {
      Objects.requireNonNull(key, "annotationKey must not be null");
      int slash = key.indexOf('/');
      String prefix = slash < 0 ? "" : key.substring(0, slash);
      String last = slash < 0 ? key : key.substring(slash + 1);
      boolean prefixOk =
          slash < 0
              || (!prefix.isEmpty()
                  && prefix.length() <= 253
                  && prefix
                      .chars()
                      .allMatch(
                          c ->
                              (c >= 'a' && c <= 'z')
                                  || (c >= '0' && c <= '9')
                                  || c == '-'
                                  || c == '.')
                  && Character.isLetterOrDigit(prefix.charAt(0))
                  && Character.isLetterOrDigit(prefix.charAt(prefix.length() - 1)));
      if (!prefixOk || last.length() > 63 || !ProvisioningStep.isNameLike(last)) {
        throw new IllegalArgumentException(
            "annotationKey must be a qualified name such as 'example.com/provisioned', was '"
                + key
                + "'");
      }
      this.annotationKey = key;
      return this;
    }

    /**
     * Whether the watcher holds each namespace it provisions with a finalizer (named like the
     * {@linkplain #annotationKey annotation}), as the Java Operator SDK does for resources with
     * clean-up: a deleted namespace then stays Terminating until the deletion plan has succeeded,
     * so no deletion is missed, not even one made while no replica ran. Nothing is created before
     * the finalizer is in place. The price: while no watcher runs (or while its clean-up fails),
     * deleting such a namespace waits; {@code kubectl patch namespace NAME --type=json -p
     * '[{"op":"remove","path":"/metadata/finalizers/0"}]'} (the index of the finalizer) lets it go.
     * Needs a {@link #deletionPlan deletion plan}. Off unless set; a watcher without it still
     * cleans up and removes the finalizer of namespaces that carry it.
     */
    public Builder cleanupFinalizer(boolean enabled) {
      this.cleanupFinalizer = enabled;
      return this;
    }

    /**
     * How many namespaces are processed at once, 1 to {@value #MAX_CONCURRENT_NAMESPACES}; 16
     * unless set.
     */
    public Builder maxConcurrentNamespaces(int max) {
      if (max < 1 || max > MAX_CONCURRENT_NAMESPACES) {
        throw new IllegalArgumentException(
            "maxConcurrentNamespaces must be between 1 and "
                + MAX_CONCURRENT_NAMESPACES
                + ", was "
                + max);
      }
      this.maxConcurrentNamespaces = max;
      return this;
    }

    /** How long {@link #close()} lets in-flight work finish before cancelling it; 30 s default. */
    public Builder shutdownTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "shutdownTimeout must not be null");
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("shutdownTimeout must not be negative, was " + timeout);
      }
      this.shutdownTimeout = timeout;
      return this;
    }

    /**
     * How often the informer replays every cached namespace, so that namespaces whose plan failed
     * are tried again; at least 1 s, or {@link Duration#ZERO} for never; 10 min unless set.
     */
    public Builder resyncPeriod(Duration period) {
      Objects.requireNonNull(period, "resyncPeriod must not be null");
      if (!period.isZero() && period.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException(
            "resyncPeriod must be at least 1 s, or zero for none, was " + period);
      }
      this.resyncPeriod = period;
      return this;
    }

    /**
     * How long interrupted steps get to end before the watcher stops waiting for them (and logs
     * each that ignores interruption); 10 s unless set.
     */
    public Builder cancelGrace(Duration grace) {
      Objects.requireNonNull(grace, "cancelGrace must not be null");
      if (grace.isNegative()) {
        throw new IllegalArgumentException("cancelGrace must not be negative, was " + grace);
      }
      this.cancelGrace = grace;
      return this;
    }

    /**
     * The factory for the watcher's worker and step threads; by default virtual threads named
     * {@code fanout-<name>-<n>} and {@code fanout-<name>-step-<n>}.
     */
    public Builder threadFactory(ThreadFactory threadFactory) {
      this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory must not be null");
      return this;
    }

    /**
     * The retry policy of the watcher's own API calls (marking a namespace, confirming a
     * deletion, finalizer edits), and their only retry layer: the watcher makes them on a client
     * derived from the given one without fabric8's own retries, so one fault is one failed
     * attempt here. By default 3 attempts with 100 ms doubling backoff (full jitter) for
     * transient errors (no answer: a reset or refused connection, a timeout; or a 5xx); 429 is throttling, retried apart up to 3 times, waiting
     * at least the server's {@code retryAfterSeconds} (at most 1 min); other errors (409, 4xx)
     * are not retried. A persistent error ends a call within about a second (or the throttling
     * waits). A completion mark that still fails is retried again later, see {@link
     * PlanListener#onMarkPending}.
     */
    public Builder apiRetry(RetryPolicy retryPolicy) {
      this.apiRetry = Objects.requireNonNull(retryPolicy, "apiRetry must not be null");
      return this;
    }

    /** Told of every finished plan run; none unless set. */
    public Builder listener(PlanListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener must not be null");
      return this;
    }

    /** Runs only while this replica holds the given Lease; without it, the watcher always runs. */
    public Builder leaderElection(LeaderElection election) {
      this.election = Objects.requireNonNull(election, "leaderElection must not be null");
      return this;
    }

    /** Registers the watcher's meters (see the class documentation) in {@code registry}. */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "meterRegistry must not be null");
      return this;
    }

    /**
     * Builds the watcher; it does nothing until {@link NamespaceWatcher#start()}.
     *
     * @throws IllegalStateException if no creation plan was given, or a clean-up finalizer but no
     *     deletion plan
     */
    public NamespaceWatcher build() {
      ProvisioningPlan plan = creationPlan;
      if (plan == null) {
        throw new IllegalStateException("creationPlan must be set before build()");
      }
      if (cleanupFinalizer && deletionPlan == null) {
        throw new IllegalStateException("cleanupFinalizer(true) needs a deletionPlan to run");
      }
      return new NamespaceWatcher(this, plan);
    }
  }
}
