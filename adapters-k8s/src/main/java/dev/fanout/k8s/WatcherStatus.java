package dev.fanout.k8s;

/**
 * A snapshot of a {@link NamespaceWatcher}. Counters are cumulative since the watcher was built;
 * the rest is current. A plan run is counted once its {@link PlanListener} was told and its meters
 * recorded.
 *
 * @param running whether the watcher was started and not closed
 * @param leader whether this replica provisions: it holds the lease, or runs without leader
 *     election
 * @param synced whether the informer has listed the namespaces once since this replica began
 *     to lead (always false while not leading)
 * @param inFlight namespaces being processed or waiting for a worker now (the original's
 *     {@code processing} set)
 * @param provisioned namespaces whose creation plan succeeded and that were marked provisioned
 * @param alreadyProvisioned namespaces found already marked with the plan's version (re-listed,
 *     replayed or seen again after a restart) and left alone
 * @param failed creation plans that ended with a failed step
 * @param cancelled creation plans cancelled by a deletion, a shutdown or a lost lease
 * @param deleted deletion plans that succeeded
 * @param deletionFailed deletion plans that failed or were cancelled by a shutdown
 */
public record WatcherStatus(
    boolean running,
    boolean leader,
    boolean synced,
    int inFlight,
    long provisioned,
    long alreadyProvisioned,
    long failed,
    long cancelled,
    long deleted,
    long deletionFailed) {}
