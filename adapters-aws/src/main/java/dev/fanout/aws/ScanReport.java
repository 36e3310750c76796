package dev.fanout.aws;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a scan found: every cluster, every failure by account and region, and the call counts.
 * An account is successful when its credentials were obtained and every one of its regions was
 * scanned; {@link #summary()} counts accounts ({@code 4 successful, 1
 * errors}).
 *
 * @param accounts the accounts scanned, in the source's order
 * @param regions the regions scanned in each account
 * @param clusters the clusters found, ordered by account, region and name
 * @param deletedClusters clusters that {@code ListClusters} listed but that were gone
 *     ({@code DescribeCluster} answered 404 {@code ResourceNotFoundException}) when described:
 *     deleted during the scan. Named only (no endpoint), ordered like {@code clusters}; not
 *     failures, and not in {@code clusters}
 * @param failures the failures, ordered by account and region (an account's credentials failure
 *     first)
 * @param stats the calls made
 * @param elapsed wall time of the whole scan, listing the accounts included
 */
public record ScanReport(
    List<Account> accounts,
    List<String> regions,
    List<EksCluster> clusters,
    List<EksCluster> deletedClusters,
    List<ScanFailure> failures,
    CallStats stats,
    Duration elapsed) {

  /** Copies the lists. */
  public ScanReport {
    accounts = List.copyOf(accounts);
    regions = List.copyOf(regions);
    clusters = List.copyOf(clusters);
    deletedClusters = List.copyOf(deletedClusters);
    failures = List.copyOf(failures);
    Objects.requireNonNull(stats, "stats must not be null");
    Objects.requireNonNull(elapsed, "elapsed must not be null");
  }

  /** A report without deleted clusters. */
  public ScanReport(
      List<Account> accounts,
      List<String> regions,
      List<EksCluster> clusters,
      List<ScanFailure> failures,
      CallStats stats,
      Duration elapsed) {
    this(accounts, regions, clusters, List.of(), failures, stats, elapsed);
  }

  /** The ids of accounts with at least one failure, in account order. */
  public Set<String> failedAccounts() {
    Set<String> failed = new LinkedHashSet<>();
    failures.forEach(f -> failed.add(f.accountId()));
    return Collections.unmodifiableSet(failed);
  }

  /** How many accounts had no failure. */
  public int succeeded() {
    return accounts.size() - failedAccounts().size();
  }

  /** How many accounts had a failure. */
  public int failed() {
    return failedAccounts().size();
  }

  /** Failures by account id, in account order. */
  public Map<String, List<ScanFailure>> failuresByAccount() {
    Map<String, List<ScanFailure>> byAccount = new LinkedHashMap<>();
    for (ScanFailure f : failures) {
      byAccount.computeIfAbsent(f.accountId(), k -> new ArrayList<>()).add(f);
    }
    byAccount.replaceAll((k, v) -> List.copyOf(v));
    return Collections.unmodifiableMap(byAccount);
  }

  /** Clusters by account id, ordered by id. */
  public Map<String, List<EksCluster>> clustersByAccount() {
    Map<String, List<EksCluster>> byAccount = new TreeMap<>();
    for (EksCluster c : clusters) {
      byAccount.computeIfAbsent(c.accountId(), k -> new ArrayList<>()).add(c);
    }
    byAccount.replaceAll((k, v) -> List.copyOf(v));
    return Collections.unmodifiableMap(byAccount);
  }

  /** Account-region pairs that were scanned without error. */
  public int accountRegionsScanned() {
    int total = accounts.size() * regions.size();
    int failedPairs = 0;
    for (ScanFailure f : failures) {
      failedPairs += f.region() == null ? regions.size() : 1;
    }
    return total - failedPairs;
  }

  /**
   * One line, such as {@code 37 clusters in 10 accounts x 5 regions (48 of 50 account-regions
   * scanned): 9 successful, 1 errors in 1.2 s}; when clusters were deleted during the scan, their
   * count follows the clusters': {@code 37 clusters (1 deleted during the scan) in ...}.
   */
  public String summary() {
    return String.format(
        Locale.ROOT,
        "%d clusters%s in %d accounts x %d regions (%d of %d account-regions scanned): "
            + "%d successful, %d errors in %.1f s",
        clusters.size(),
        deletedClusters.isEmpty() ? "" : " (" + deletedClusters.size() + " deleted during the scan)",
        accounts.size(),
        regions.size(),
        accountRegionsScanned(),
        accounts.size() * regions.size(),
        succeeded(),
        failed(),
        elapsed.toNanos() / 1e9);
  }

  @Override
  public String toString() {
    return "ScanReport[" + summary() + "]";
  }
}
