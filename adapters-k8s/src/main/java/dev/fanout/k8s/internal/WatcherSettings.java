package dev.fanout.k8s.internal;

import dev.fanout.k8s.PlanListener;
import dev.fanout.k8s.ProvisioningPlan;
import dev.fanout.retry.RetryPolicy;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.ThreadFactory;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/** A namespace watcher's settings, validated by its builder. */
public record WatcherSettings(
    String name,
    KubernetesClient client,
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
    PlanListener listener,
    @Nullable MeterRegistry registry) {}
