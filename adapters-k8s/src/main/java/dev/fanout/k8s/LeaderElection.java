package dev.fanout.k8s;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;

/**
 * How replicas of a {@link NamespaceWatcher} elect the one that provisions: a Kubernetes {@code
 * Lease} (API group {@code coordination.k8s.io}) held through fabric8's {@code LeaderElector}, with
 * client-go's timing rules. Only the holder of the lease runs the informer and plans; the others
 * wait to take over when it stops renewing (or releases the lease on a graceful shutdown).
 *
 * {@snippet :
 * NamespaceWatcher watcher = NamespaceWatcher.builder(client)
 *     .creationPlan(plan)
 *     .leaderElection(LeaderElection.lease("platform", "namespace-watcher"))
 *     .build();
 * }
 *
 * @param leaseNamespace the namespace of the Lease object
 * @param leaseName the name of the Lease object, shared by all replicas
 * @param identity this replica's identity, different for every replica (by default the host
 *     name, which is the pod name in a cluster, plus a random suffix)
 * @param leaseDuration how long followers wait after the last renewal before they take over;
 *     whole seconds (the Lease stores seconds), at least 1 s
 * @param renewDeadline how long the leader keeps retrying to renew before it gives up leading;
 *     less than {@code leaseDuration}
 * @param retryPeriod how often candidates try to acquire and the leader renews; {@code
 *     renewDeadline} must exceed {@code 2.2 * retryPeriod} (fabric8 adds up to 120% jitter to it)
 */
public record LeaderElection(
    String leaseNamespace,
    String leaseName,
    String identity,
    Duration leaseDuration,
    Duration renewDeadline,
    Duration retryPeriod) {

  /** client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry period. */
  public static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(15);

  /** See {@link #DEFAULT_LEASE_DURATION}. */
  public static final Duration DEFAULT_RENEW_DEADLINE = Duration.ofSeconds(10);

  /** See {@link #DEFAULT_LEASE_DURATION}. */
  public static final Duration DEFAULT_RETRY_PERIOD = Duration.ofSeconds(2);

  /** Validates every component; see the class documentation for the accepted values. */
  public LeaderElection {
    requireNotBlank("leaseNamespace", leaseNamespace);
    requireNotBlank("leaseName", leaseName);
    requireNotBlank("identity", identity);
    Objects.requireNonNull(leaseDuration, "leaseDuration must not be null");
    Objects.requireNonNull(renewDeadline, "renewDeadline must not be null");
    Objects.requireNonNull(retryPeriod, "retryPeriod must not be null");
    if (leaseDuration.compareTo(Duration.ofSeconds(1)) < 0 || leaseDuration.getNano() != 0) {
      throw new IllegalArgumentException(
          "leaseDuration must be whole seconds, at least 1 s, was " + leaseDuration);
    }
    if (retryPeriod.toMillis() < 1) {
      throw new IllegalArgumentException("retryPeriod must be at least 1 ms, was " + retryPeriod);
    }
    if (renewDeadline.compareTo(leaseDuration) >= 0) {
      throw new IllegalArgumentException(
          "renewDeadline must be less than leaseDuration ("
              + leaseDuration
              + "), was "
              + renewDeadline);
    }
    long retryWithJitter = retryPeriod.toMillis() + (long) Math.ceil(retryPeriod.toMillis() * 1.2);
    if (renewDeadline.toMillis() <= retryWithJitter) {
      throw new IllegalArgumentException(
          "renewDeadline must be more than retryPeriod plus 120% jitter ("
              + retryWithJitter
              + " ms for retryPeriod "
              + retryPeriod
              + "), was "
              + renewDeadline);
    }
  }

  /**
   * A Lease lock with client-go's default timing and this process's default identity: the host
   * name (the pod name in a cluster) and a random suffix.
   */
  public static LeaderElection lease(String leaseNamespace, String leaseName) {
    return new LeaderElection(
        leaseNamespace,
        leaseName,
        defaultIdentity(),
        DEFAULT_LEASE_DURATION,
        DEFAULT_RENEW_DEADLINE,
        DEFAULT_RETRY_PERIOD);
  }

  /** This election with another identity. */
  public LeaderElection withIdentity(String identity) {
    return new LeaderElection(
        leaseNamespace, leaseName, identity, leaseDuration, renewDeadline, retryPeriod);
  }

  /** This election with other timing (validated as the class documentation says). */
  public LeaderElection withTiming(
      Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
    return new LeaderElection(
        leaseNamespace, leaseName, identity, leaseDuration, renewDeadline, retryPeriod);
  }

  private static String defaultIdentity() {
    String host = System.getenv("HOSTNAME");
    if (host == null || host.isBlank()) {
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        host = "fanout";
      }
    }
    return host + "_" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static void requireNotBlank(String field, String value) {
    Objects.requireNonNull(value, field + " must not be null");
    if (value.isBlank()) {
      throw new IllegalArgumentException(field + " must not be blank, was '" + value + "'");
    }
  }
}
