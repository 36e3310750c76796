package dev.fanout.k8s.internal;

import dev.fanout.ParallelConfig;
import dev.fanout.Policies;
import dev.fanout.PoolClosedException;
import dev.fanout.PoolStatus;
import dev.fanout.WhileRunning;
import dev.fanout.WorkerPool;
import dev.fanout.k8s.PlanPhase;
import dev.fanout.k8s.PlanReport;
import dev.fanout.k8s.PlanStatus;
import dev.fanout.k8s.ProvisioningPlan;
import dev.fanout.rate.RateGate;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryPolicy;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.ExceptionHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One term of a namespace watcher: an informer on Namespaces feeding a keyed {@link WorkerPool}.
 * Without leader election a watcher has one term from start to close; with it, one per period
 * of leadership.
 *
 * <h2>Per-namespace protocol</h2>
 *
 * Events only record what happened and submit the namespace's name to the pool with {@link
 * WhileRunning#RERUN}, so the informer's thread never waits for work, one namespace is never
 * processed twice at once, and events for a busy namespace collapse into one more run. A run
 * ({@link #reconcile}) looks at the state, not at the event: first a pending deletion (the
 * namespace's final state, kept as a tombstone by the delete event), then the namespace as the
 * informer's cache has it now.
 *
 * <p>The small per-name state ({@link KeyState}) is only read and changed inside {@code
 * states.compute(name, ...)}, which serialises event handlers and runs for the same name. A
 * delete event that finds the name {@code CREATING} cancels the pool's run of that name inside
 * that same compute, so the cancel can only ever hit the creation, never a later run.
 *
 * <p>Why this class is long (~900 lines): the per-namespace state machine (provision, cancel on
 * delete, clean up, mark, finalizer) and the informer events that drive it share one per-key state
 * and one lock discipline; splitting them would spread that discipline over classes.
 */
public final class Reconciler {
  private static final Logger log = LoggerFactory.getLogger("dev.fanout.k8s.NamespaceWatcher");
  private static final int MAX_CONFLICTS = 5;

  private enum Phase {
    IDLE,
    CREATING,
    DELETING
  }

  /** Guarded by {@code states.compute} for its name. */
  private static final class KeyState {
    @Nullable Namespace tombstone;
    @Nullable String terminatingUid;
    Phase phase = Phase.IDLE;
  }

  private final WatcherSettings settings;
  private final WatcherCounters counters;
  private final @Nullable WatcherMeters meters;
  private final WorkerPool pool;
  private final PlanRunner creation;
  private final @Nullable PlanRunner deletion;
  private final ConcurrentHashMap<String, KeyState> states = new ConcurrentHashMap<>();

  /** Names (and UIDs) this term provisioned, until the informer's cache shows the annotation. */
  private final Map<String, String> provisionedUids = new ConcurrentHashMap<>();

  /** UIDs whose deletion plan ran while they were Terminating, until their DELETED event. */
  private final Set<String> finalizedUids = ConcurrentHashMap.newKeySet();

  private final SharedIndexInformer<Namespace> informer;
  private final Events events = new Events();
  private volatile boolean synced;
  private volatile boolean stopping;

  public Reconciler(
      WatcherSettings settings, WatcherCounters counters, @Nullable WatcherMeters meters) {
    this.settings = settings;
    this.counters = counters;
    this.meters = meters;
    WorkerPool.Builder pool =
        WorkerPool.builder(
                ParallelConfig.builder()
                    .concurrency(settings.maxConcurrentNamespaces())
                    .shutdownTimeout(settings.shutdownTimeout())
                    .build())
            .name(settings.name())
            .policies(Policies.none()) // steps retry on their own; a plan is not re-run
            .threadFactory(settings.workerThreads());
    if (settings.registry() != null) {
      pool.meterRegistry(settings.registry());
    }
    this.pool = pool.build();
    PlanRunner.StepObserver observer =
        meters == null ? PlanRunner.StepObserver.NONE : meters::stepEnded;
    this.creation =
        new PlanRunner(
            settings.creationPlan(),
            settings.stepThreads(),
            settings.cancelGrace(),
            observer,
            settings.strayThreads());
    ProvisioningPlan deletionPlan = settings.deletionPlan();
    this.deletion =
        deletionPlan == null
            ? null
            : new PlanRunner(
                deletionPlan,
                settings.stepThreads(),
                settings.cancelGrace(),
                observer,
                settings.strayThreads());
    String selector = settings.labelSelector();
    long resync = settings.resyncPeriod().toMillis();
    this.informer =
        selector == null
            ? settings.client().namespaces().runnableInformer(resync)
            : settings.client().namespaces().withLabelSelector(selector).runnableInformer(resync);
    informer.addEventHandler(events);
    // fabric8 gives up on an informer whose first list fails (a timeout, a reset, a 5xx past the
    // client's retries): the watcher would never sync. Transient errors are tried again (with the
    // client's watch-reconnect backoff), before the first sync as after it.
    informer.exceptionHandler(
        (started, error) -> {
          boolean retry =
              !stopping
                  && !ExceptionHandler.isDeserializationException(error)
                  && (started || ApiErrors.isTransient(unwrap(error)));
          if (retry) {
            log.warn(
                "{}: the namespace informer's {} failed, trying again: {}",
                settings.name(),
                started ? "watch" : "list",
                unwrap(error).toString());
          }
          return retry;
        });
  }

  private static Throwable unwrap(Throwable error) {
    Throwable t = error;
    while ((t instanceof CompletionException
            || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** Starts the informer; events begin to arrive once it has listed the namespaces. */
  public void start() {
    informer
        .start()
        .whenComplete(
            (ignored, error) -> {
              if (error == null) {
                synced = true;
                log.info(
                    "{}: watching namespaces{}",
                    settings.name(),
                    settings.labelSelector() == null ? "" : " (" + settings.labelSelector() + ")");
              } else if (stopping) {
                log.debug("{}: the namespace informer stopped before it synced", settings.name());
              } else {
                log.error("{}: the namespace informer failed to start", settings.name(), error);
              }
            });
  }

  /** The informer's event handler, for tests that replay events. */
  ResourceEventHandler<Namespace> eventHandler() {
    return events;
  }

  /** The namespace as the informer's cache has it, or {@code null}. */
  @Nullable Namespace cached(String name) {
    return informer.getStore().getByKey(name);
  }

  public boolean synced() {
    return synced;
  }

  /** Namespaces being processed or queued. */
  public int inFlight() {
    PoolStatus status = pool.status();
    return status.active() + status.queued();
  }

  /**
   * Graceful end: stops the informer, then lets queued and running namespaces finish for up to
   * the shutdown timeout, then cancels the rest and waits for their threads to end.
   */
  public void drain() {
    stopInformer();
    pool.close();
  }

  /** Lost leadership: stops the informer and cancels all work at once. */
  public void abort() {
    stopInformer();
    pool.cancelAll("watcher '" + settings.name() + "' lost the leadership");
    pool.close();
  }

  private void stopInformer() {
    stopping = true;
    try {
      informer.stop();
    } catch (RuntimeException e) {
      log.warn("{}: stopping the namespace informer failed", settings.name(), e);
    }
    synced = false;
  }

  // ---------------------------------------------------------------------------------------------
  // Events: on the informer's thread; they never wait for work.

  private final class Events implements ResourceEventHandler<Namespace> {
    @Override
    public void onAdd(Namespace namespace) {
      upserted(namespace, Seen.ADDED);
    }

    @Override
    public void onUpdate(Namespace old, Namespace namespace) {
      String oldUid = old.getMetadata().getUid();
      String newUid = namespace.getMetadata().getUid();
      if (oldUid != null && newUid != null && !oldUid.equals(newUid)) {
        // Deleted and created again while the watch was down: a re-list brings the new object as
        // an update of the old one. It is a delete of the old object and an add of the new one.
        log.debug(
            "{}: namespace {} was replaced (UID {} -> {}) while the watch was down",
            settings.name(),
            nameOf(namespace),
            oldUid,
            newUid);
        deleted(old);
        upserted(namespace, Seen.ADDED);
        return;
      }
      boolean replay =
          Objects.equals(
              old.getMetadata().getResourceVersion(), namespace.getMetadata().getResourceVersion());
      upserted(namespace, replay ? Seen.AGAIN : Seen.CHANGED);
    }

    @Override
    public void onDelete(Namespace namespace, boolean finalStateUnknown) {
      deleted(namespace);
    }
  }

  /** How an event brings a namespace. */
  private enum Seen {
    /** First seen by this term: its initial list, a later add. */
    ADDED,
    /** Unchanged: a resync or a re-list replays what the cache holds. */
    AGAIN,
    /** A real change. */
    CHANGED
  }

  private void upserted(Namespace namespace, Seen seen) {
    boolean added = seen == Seen.ADDED;
    String name = nameOf(namespace);
    if (!matches(namespace)) {
      return;
    }
    if (namespace.getMetadata().getDeletionTimestamp() != null) {
      terminating(name, namespace.getMetadata().getUid());
      return;
    }
    if (isProvisioned(namespace) && (!settings.useFinalizer() || hasFinalizer(namespace))) {
      if (seen != Seen.CHANGED) {
        counters.alreadyProvisioned.increment();
        log.debug("{}: namespace {} is already provisioned", settings.name(), name);
      }
      return;
    }
    if (added) {
      log.debug("Creating the namespace {}", name);
    }
    submit(name);
  }

  /**
   * A namespace being deleted (Terminating): stop creating it. If it carries this watcher's
   * finalizer, the run cleans it up and removes the finalizer; otherwise its DELETED event follows.
   */
  private void terminating(String name, @Nullable String uid) {
    boolean[] cancelled = {false};
    states.compute(
        name,
        (key, state) -> {
          KeyState s = state != null ? state : new KeyState();
          if (uid != null && !uid.equals(s.terminatingUid)) {
            s.terminatingUid = uid;
            if (s.phase == Phase.CREATING) {
              cancelled[0] = pool.cancel(name);
            }
          }
          return s;
        });
    if (cancelled[0]) {
      log.debug("Cancelling the creation of namespace {}: it is being deleted", name);
    }
    submit(name); // lets the state go once the run sees the namespace is terminating
  }

  private void deleted(Namespace namespace) {
    String name = nameOf(namespace);
    if (!matches(namespace)) {
      return;
    }
    log.debug("Deleting the namespace {}", name);
    boolean[] cancelled = {false};
    states.compute(
        name,
        (key, state) -> {
          KeyState s = state != null ? state : new KeyState();
          s.tombstone = namespace;
          if (s.phase == Phase.CREATING) {
            // Inside the compute, so the run of this name is still the creation.
            cancelled[0] = pool.cancel(name);
          }
          return s;
        });
    if (cancelled[0]) {
      log.debug("Cancelling the creation of namespace {}: it was deleted", name);
    }
    submit(name);
  }

  private void submit(String name) {
    try {
      pool.submit(name, this::reconcile, WhileRunning.RERUN);
    } catch (PoolClosedException e) {
      log.debug("{}: namespace {} not processed: the watcher is stopping", settings.name(), name);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Runs: on the pool's workers, one at a time per name.

  private @Nullable Void reconcile(String name) {
    try {
      Namespace tombstone = takeTombstone(name);
      if (tombstone != null) {
        try {
          deleted(name, tombstone);
        } finally {
          setIdle(name);
        }
        if (Thread.currentThread().isInterrupted()) {
          return null;
        }
      }
      Namespace current = cached(name);
      if (current == null || !matches(current)) {
        return null;
      }
      if (current.getMetadata().getDeletionTimestamp() != null) {
        if (hasFinalizer(current)) {
          setPhase(name, Phase.DELETING);
          try {
            finalizeDeletion(name, current);
          } finally {
            setIdle(name);
          }
        }
        return null;
      }
      if (isProvisioned(current)) {
        if (settings.useFinalizer() && !hasFinalizer(current)) {
          editFinalizer(name, current, true); // provisioned before finalizers were turned on
        }
        return null;
      }
      if (!startCreating(name, current.getMetadata().getUid())) {
        return null; // deleted meanwhile: the run that the delete event submitted handles it
      }
      try {
        // With a finalizer, nothing is created before the namespace is held by it, so no
        // deletion can slip by unseen.
        if (!settings.useFinalizer()
            || hasFinalizer(current)
            || editFinalizer(name, current, true)) {
          create(name, current);
        }
      } finally {
        setIdle(name);
      }
      return null;
    } finally {
      states.computeIfPresent(
          name, (key, s) -> s.phase == Phase.IDLE && s.tombstone == null ? null : s);
    }
  }

  private @Nullable Namespace takeTombstone(String name) {
    Namespace[] taken = {null};
    states.computeIfPresent(
        name,
        (key, s) -> {
          taken[0] = s.tombstone;
          if (s.tombstone != null) {
            s.tombstone = null;
            s.phase = Phase.DELETING;
          }
          return s;
        });
    return taken[0];
  }

  private boolean startCreating(String name, @Nullable String uid) {
    boolean[] started = {false};
    states.compute(
        name,
        (key, state) -> {
          KeyState s = state != null ? state : new KeyState();
          if (s.tombstone == null && (uid == null || !uid.equals(s.terminatingUid))) {
            s.phase = Phase.CREATING;
            started[0] = true;
          }
          return s;
        });
    return started[0];
  }

  private void setIdle(String name) {
    states.computeIfPresent(
        name,
        (key, s) -> {
          s.phase = Phase.IDLE;
          return s;
        });
  }

  private void setPhase(String name, Phase phase) {
    states.compute(
        name,
        (key, state) -> {
          KeyState s = state != null ? state : new KeyState();
          s.phase = phase;
          return s;
        });
  }

  private void create(String name, Namespace namespace) {
    log.debug("Processing namespace creation: {}", name);
    PlanReport report = creation.run(namespace);
    @Nullable LongAdder outcome =
        switch (report.status()) {
          case SUCCEEDED -> {
            String uid = namespace.getMetadata().getUid();
            if (uid != null) {
              provisionedUids.put(name, uid);
            }
            if (recordMark(name, uid, report)) {
              log.info("Namespace {} provisioned: {}", name, report.summary());
              yield counters.provisioned;
            }
            yield null; // abandoned: the namespace went away, or the term ended
          }
          case FAILED -> {
            log.warn("Namespace {} not provisioned: {}", name, report.summary());
            yield counters.failed;
          }
          case CANCELLED -> {
            log.info("Creation of namespace {} cancelled: {}", name, report.summary());
            yield counters.cancelled;
          }
        };
    finished(PlanPhase.CREATION, report);
    if (outcome != null) {
      outcome.increment(); // counted last: whoever sees the count sees the report and its meters
    }
  }

  /**
   * Records the completion mark of a succeeded plan, retrying (not the plan: the mark) with
   * backoff until it is recorded, the namespace is gone or replaced, or the run is interrupted
   * (a deletion, a shutdown, a lost lease). Meanwhile the namespace counts as "succeeded, mark
   * pending" in the status, and the listener hears of it once.
   *
   * @return whether the mark is recorded
   */
  private boolean recordMark(String name, @Nullable String uid, PlanReport report) {
    Throwable error = markProvisioned(name, uid);
    if (error == null) {
      return true;
    }
    counters.markPending.incrementAndGet();
    try {
      if (Thread.currentThread().isInterrupted()) {
        log.info("Namespace {} provisioned, but not marked: it is being cancelled", name);
        return false;
      }
      log.warn(
          "Namespace {} provisioned, but marking it with {}={} failed ({}); retrying the mark",
          name,
          settings.annotationKey(),
          settings.creationPlan().version(),
          error.toString());
      markPending(report, error);
      Duration delay = Duration.ZERO;
      for (int retry = 1; ; retry++) {
        delay = settings.markBackoff().delay(retry, delay, ThreadLocalRandom.current());
        try {
          Thread.sleep(delay);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          log.info("Namespace {} provisioned, but not marked: it is being cancelled", name);
          return false;
        }
        // Re-read: the mark may have been recorded after all (a lost answer), or the namespace
        // may be gone or replaced (then there is nothing to mark).
        Outcome<Namespace> read =
            settings.apiRetry().execute(() -> settings.apiClient().namespaces().withName(name).get());
        if (read instanceof Outcome.Success<Namespace> found) {
          Namespace now = found.value();
          if (now == null
              || (uid != null && !uid.equals(now.getMetadata().getUid()))
              || now.getMetadata().getDeletionTimestamp() != null) {
            log.info("Namespace {} provisioned, but not marked: it was deleted", name);
            return false;
          }
          if (settings.creationPlan().version().equals(annotationOf(now))) {
            log.debug("Namespace {}: the mark is recorded after {} retries", name, retry);
            return true;
          }
          error = markProvisioned(name, uid);
          if (error == null) {
            log.debug("Namespace {}: the mark is recorded after {} retries", name, retry);
            return true;
          }
        } else {
          error = ((Outcome.Failure<Namespace>) read).error();
        }
        if (Thread.currentThread().isInterrupted()) {
          log.info("Namespace {} provisioned, but not marked: it is being cancelled", name);
          return false;
        }
        log.debug("{}: marking namespace {} failed again: {}", settings.name(), name, error);
      }
    } finally {
      counters.markPending.decrementAndGet();
    }
  }

  private @Nullable String annotationOf(Namespace namespace) {
    Map<String, String> annotations = namespace.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(settings.annotationKey());
  }

  private void markPending(PlanReport report, Throwable error) {
    try {
      settings.listener().onMarkPending(report, error);
    } catch (RuntimeException e) {
      log.warn("{}: plan listener failed; ignored", settings.name(), e);
    }
  }

  /**
   * Runs the deletion plan for a namespace whose delete event arrived, unless it was cleaned up
   * already (while it was Terminating, held by this watcher's finalizer), or with finalizers on it
   * was never provisioned (nothing is created before the finalizer holds a namespace, and the
   * clean-up removes the mark), or it still exists with the same UID and is not being deleted:
   * then it only stopped matching the label selector, and its resources stay.
   */
  private void deleted(String name, Namespace tombstone) {
    String uid = tombstone.getMetadata().getUid();
    if (uid != null) {
      provisionedUids.remove(name, uid);
      if (finalizedUids.remove(uid)) {
        return;
      }
    }
    if (settings.useFinalizer() && !isMarked(tombstone)) {
      return;
    }
    if (stillExists(name, uid)) {
      log.info("Namespace {} left the watched set but still exists: its resources are kept", name);
      return;
    }
    if (deletion == null) {
      counters.deleted.increment();
      return;
    }
    runDeletion(name, tombstone);
  }

  /** Runs the deletion plan; returns whether it succeeded. */
  private boolean runDeletion(String name, Namespace namespace) {
    log.debug("Processing namespace deletion: {}", name);
    PlanRunner plan = Objects.requireNonNull(deletion);
    PlanReport report = plan.run(namespace);
    boolean succeeded = report.status() == PlanStatus.SUCCEEDED;
    if (succeeded) {
      log.info("Namespace {} cleaned up: {}", name, report.summary());
    } else {
      log.warn("Clean-up of namespace {} incomplete: {}", name, report.summary());
    }
    finished(PlanPhase.DELETION, report);
    // Counted last, as a creation is.
    (succeeded ? counters.deleted : counters.deletionFailed).increment();
    return succeeded;
  }

  /**
   * A Terminating namespace held by this watcher's finalizer: runs the deletion plan, then lets
   * the namespace go by removing the finalizer (and the mark). A failed clean-up keeps the
   * finalizer, so the next resync or change tries again.
   */
  private void finalizeDeletion(String name, Namespace namespace) {
    String uid = namespace.getMetadata().getUid();
    if (uid != null && finalizedUids.contains(uid)) {
      return; // cleaned up already; the cache has not caught up yet
    }
    boolean cleaned = deletion == null || runDeletion(name, namespace);
    if (!cleaned) {
      log.warn(
          "Namespace {} keeps its finalizer {} until its clean-up succeeds",
          name,
          settings.annotationKey());
      return;
    }
    if (uid != null) {
      finalizedUids.add(uid); // before the finalizer goes: the DELETED event may follow at once
    }
    if (!editFinalizer(name, namespace, false) && uid != null) {
      finalizedUids.remove(uid);
    }
  }

  private boolean stillExists(String name, @Nullable String uid) {
    Outcome<Namespace> found =
        settings.apiRetry().execute(() -> settings.apiClient().namespaces().withName(name).get());
    return switch (found) {
      case Outcome.Success<Namespace> s -> {
        Namespace now = s.value();
        yield now != null
            && uid != null
            && uid.equals(now.getMetadata().getUid())
            && now.getMetadata().getDeletionTimestamp() == null;
      }
      case Outcome.Failure<Namespace> f -> {
        if (!Thread.currentThread().isInterrupted()) {
          log.warn(
              "{}: could not confirm that namespace {} is gone ({}); trusting the delete event",
              settings.name(),
              name,
              f.error().toString());
        }
        yield false;
      }
    };
  }

  /**
   * Records the plan's version on the namespace. The merge patch carries the UID, so a namespace
   * deleted and created again under the same name in the meantime is not marked by mistake (the
   * API server refuses to change a UID).
   *
   * @return the error if the mark could not be recorded, else {@code null}
   */
  private @Nullable Throwable markProvisioned(String name, @Nullable String uid) {
    Namespace patch =
        new NamespaceBuilder()
            .withNewMetadata()
            .withName(name)
            .withUid(uid)
            .addToAnnotations(settings.annotationKey(), settings.creationPlan().version())
            .endMetadata()
            .build();
    Outcome<Namespace> patched =
        settings
            .apiRetry()
            .execute(
                () ->
                    settings
                        .apiClient()
                        .namespaces()
                        .withName(name)
                        .patch(PatchContext.of(PatchType.JSON_MERGE), patch));
    return patched instanceof Outcome.Failure<Namespace> f ? f.error() : null;
  }

  /**
   * Adds or removes this watcher's finalizer (removing also removes the mark) with a JSON Patch
   * that first tests the resourceVersion it read, so a concurrent change is refused, not lost;
   * refusals are retried with a fresh read. (A JSON merge patch would replace the whole list.)
   *
   * @return whether the namespace now has ({@code add}) or no longer has the finalizer
   */
  private boolean editFinalizer(String name, Namespace seen, boolean add) {
    String finalizer = settings.annotationKey();
    String uid = seen.getMetadata().getUid();
    for (int attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
      Outcome<Namespace> read =
          settings.apiRetry().execute(() -> settings.apiClient().namespaces().withName(name).get());
      if (!(read instanceof Outcome.Success<Namespace> found)) {
        logFailedEdit(name, add, ((Outcome.Failure<Namespace>) read).error());
        return false;
      }
      Namespace now = found.value();
      if (now == null || (uid != null && !uid.equals(now.getMetadata().getUid()))) {
        return !add; // gone (or replaced): nothing to hold
      }
      List<String> finalizers = now.getMetadata().getFinalizers();
      int index = finalizers == null ? -1 : finalizers.indexOf(finalizer);
      if ((index >= 0) == add) {
        return true;
      }
      if (add && now.getMetadata().getDeletionTimestamp() != null) {
        return false; // the API server refuses new finalizers on a Terminating object
      }
      String patch =
          add
              ? addFinalizerPatch(
                  now.getMetadata().getResourceVersion(),
                  finalizer,
                  finalizers == null || finalizers.isEmpty())
              : removeFinalizerPatch(
                  now.getMetadata().getResourceVersion(), index, isMarked(now) ? finalizer : null);
      Outcome<Namespace> patched =
          settings
              .apiRetry()
              .execute(
                  () ->
                      settings
                          .apiClient()
                          .resource(now)
                          .patch(PatchContext.of(PatchType.JSON), patch));
      if (patched instanceof Outcome.Failure<Namespace> f) {
        if (f.error() instanceof KubernetesClientException k
            && (k.getCode() == 409 || k.getCode() == 422)) {
          continue; // changed since read (the test op failed): read again
        }
        logFailedEdit(name, add, f.error());
        return false;
      }
      log.debug(
          "{}: {} finalizer {} on namespace {}",
          settings.name(),
          add ? "added" : "removed",
          finalizer,
          name);
      return true;
    }
    log.warn(
        "{}: namespace {} kept changing; gave up {} finalizer {} after {} attempts",
        settings.name(),
        name,
        add ? "adding" : "removing",
        finalizer,
        MAX_CONFLICTS);
    return false;
  }

  private void logFailedEdit(String name, boolean add, Throwable error) {
    if (!Thread.currentThread().isInterrupted()) {
      log.warn(
          "{}: {} the finalizer of namespace {} failed: {}",
          settings.name(),
          add ? "adding" : "removing",
          name,
          error.toString());
    }
  }

  /**
   * A JSON Patch that adds {@code finalizer}, if the resourceVersion is still the one read. With
   * no finalizers yet it sets the whole list (an append needs an existing array), which the
   * version test makes safe.
   */
  static String addFinalizerPatch(
      @Nullable String resourceVersion, String finalizer, boolean noList) {
    String add =
        noList
            ? "{\"op\":\"add\",\"path\":\"/metadata/finalizers\",\"value\":["
                + quote(finalizer)
                + "]}"
            : "{\"op\":\"add\",\"path\":\"/metadata/finalizers/-\",\"value\":"
                + quote(finalizer)
                + "}";
    return "[" + testVersion(resourceVersion) + add + "]";
  }

  /**
   * A JSON Patch that removes the finalizer at {@code index} and, if given, the annotation
   * {@code mark}, if the resourceVersion is still the one read.
   */
  static String removeFinalizerPatch(
      @Nullable String resourceVersion, int index, @Nullable String mark) {
    StringBuilder patch =
        new StringBuilder("[")
            .append(testVersion(resourceVersion))
            .append("{\"op\":\"remove\",\"path\":\"/metadata/finalizers/")
            .append(index)
            .append("\"}");
    if (mark != null) {
      patch
          .append(",{\"op\":\"remove\",\"path\":")
          .append(quote("/metadata/annotations/" + mark.replace("~", "~0").replace("/", "~1")))
          .append('}');
    }
    return patch.append(']').toString();
  }

  private static String testVersion(@Nullable String resourceVersion) {
    return resourceVersion == null
        ? ""
        : "{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":"
            + quote(resourceVersion)
            + "},";
  }

  private static String quote(String value) {
    StringBuilder quoted = new StringBuilder(value.length() + 2).append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\') {
        quoted.append('\\').append(c);
      } else if (c < 0x20) {
        quoted.append(String.format("\\u%04x", (int) c));
      } else {
        quoted.append(c);
      }
    }
    return quoted.append('"').toString();
  }

  private void finished(PlanPhase phase, PlanReport report) {
    if (meters != null) {
      meters.planEnded(phase, report);
    }
    try {
      settings.listener().onPlanFinished(phase, report);
    } catch (RuntimeException e) {
      log.warn("{}: plan listener failed; ignored", settings.name(), e);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private boolean matches(Namespace namespace) {
    try {
      return settings.filter().test(namespace);
    } catch (RuntimeException e) {
      log.warn(
          "{}: namespace filter failed for {}; skipped", settings.name(), nameOf(namespace), e);
      return false;
    }
  }

  /** Whether the namespace carries this watcher's finalizer. */
  private boolean hasFinalizer(Namespace namespace) {
    List<String> finalizers = namespace.getMetadata().getFinalizers();
    return finalizers != null && finalizers.contains(settings.annotationKey());
  }

  /** Whether the namespace carries this watcher's mark, whatever the version. */
  private boolean isMarked(Namespace namespace) {
    Map<String, String> annotations = namespace.getMetadata().getAnnotations();
    return annotations != null && annotations.containsKey(settings.annotationKey());
  }

  /** Marked with this plan's version, or provisioned by this term and not yet seen marked. */
  private boolean isProvisioned(Namespace namespace) {
    ObjectMeta meta = namespace.getMetadata();
    Map<String, String> annotations = meta.getAnnotations();
    if (annotations != null
        && settings.creationPlan().version().equals(annotations.get(settings.annotationKey()))) {
      return true;
    }
    String uid = meta.getUid();
    return uid != null && uid.equals(provisionedUids.get(meta.getName()));
  }

  private static String nameOf(Namespace namespace) {
    return Objects.requireNonNull(namespace.getMetadata().getName(), "namespace name");
  }
}
