/**
 * A parallel Kubernetes namespace watcher: a fabric8 informer on Namespaces feeds a keyed
 * {@link dev.fanout.WorkerPool} with the workqueue's guarantees, and each new namespace is
 * provisioned by a {@link dev.fanout.k8s.ProvisioningPlan}, a small graph of named steps that run
 * in parallel where they do not depend on each other.
 *
 * <p>Start at {@link dev.fanout.k8s.NamespaceWatcher}.
 */
@NullMarked
package dev.fanout.k8s;

import org.jspecify.annotations.NullMarked;
