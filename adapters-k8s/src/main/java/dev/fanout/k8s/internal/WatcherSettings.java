package dev.fanout.k8s.internal;

import dev.fanout.k8s.PlanListener;
import dev.fanout.k8s.ProvisioningPlan;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryPolicy;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * A namespace watcher's settings, validated by its builder. {@code client} is the user's (the
 * informer lists and watches with it); {@code apiClient} shares its connection but not its retries,
 * for the watcher's own calls, which {@code apiRetry} alone retries. {@code strayThreads}: step
 * threads that ignored interruption past the cancel grace, with what they run.
 */
public record WatcherSettings(
    String name,
    KubernetesClient client,
    KubernetesClient apiClient,
    @Nullable String labelSelector,
    Predicate<? super Namespace> filter,
    ProvisioningPlan creationPlan,
    @Nullable ProvisioningPlan deletionPlan,
    String annotationKey,
    boolean useFinalizer,
    int maxConcurrentNamespaces,
    Duration shutdownTimeout,
    Duration resyncPeriod,
    Duration cancelGrace,
    ThreadFactory workerThreads,
    ThreadFactory stepThreads,
    RetryPolicy apiRetry,
    Backoff markBackoff,
    PlanListener listener,
    @Nullable MeterRegistry registry,
    Map<Thread, String> strayThreads) {}
