/** Kubernetes adapters for fanout: a parallel namespace watcher with provisioning plans. */
// Exports its API package once the adapter lands; until then it only re-exports the core.
module dev.fanout.k8s {
  requires transitive dev.fanout.core;

}
