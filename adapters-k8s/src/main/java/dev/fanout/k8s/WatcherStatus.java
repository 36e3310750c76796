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
 * @param inFlight namespaces being processed or waiting for a worker now
 * @param provisioned namespaces whose creation plan succeeded and that were marked provisioned
 * @param markPending namespaces whose creation plan succeeded but whose mark is not recorded yet:
 *     the watcher is retrying the mark now ("succeeded, mark pending"); they count as provisioned
 *     once it is recorded
 * @param alreadyProvisioned sightings of namespaces already marked with the plan's version and left
 *     alone: each time a list (the first after a start, a restart or a new leader's), a re-list
 *     after a watch gap or a resync brings one unchanged; real changes of a marked namespace are
 *     not counted
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
    int markPending,
    long alreadyProvisioned,
    long failed,
    long cancelled,
    long deleted,
    long deletionFailed) {}
