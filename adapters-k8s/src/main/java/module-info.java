/**
 * Kubernetes adapters for fanout: a parallel namespace watcher with provisioning plans, on the
 * fabric8 client.
 *
 * <p>Only {@code dev.fanout.k8s} is exported; {@code dev.fanout.k8s.internal} holds the
 * implementation. The fabric8 jars are automatic modules (named from their file names); the
 * client API and the core model are re-exported because the watcher's API speaks in their types
 * ({@code KubernetesClient}, {@code Namespace}).
 */
module dev.fanout.k8s {
  requires transitive dev.fanout.core;
  requires transitive kubernetes.client.api;
  requires transitive kubernetes.model.core;
  requires static org.jspecify;

  exports dev.fanout.k8s;
}
