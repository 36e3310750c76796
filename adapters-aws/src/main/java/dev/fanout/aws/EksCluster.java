package dev.fanout.aws;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An EKS cluster found by a scan. The connection fields come from {@code DescribeCluster}; they
 * are {@code null} when the scan did not describe clusters, or the cluster has no endpoint yet
 * (it is still being created).
 *
 * @param accountId the account
 * @param region the region
 * @param name the cluster's name
 * @param arn the cluster's ARN, or {@code null} if not described
 * @param endpoint the API server URL, or {@code null}
 * @param certificateAuthorityData the base64 cluster CA certificate, or {@code null}
 * @param version the Kubernetes version, such as {@code 1.31}, or {@code null}
 * @param status the cluster status, such as {@code ACTIVE}, or {@code null}
 */
public record EksCluster(
    String accountId,
    String region,
    String name,
    @Nullable String arn,
    @Nullable String endpoint,
    @Nullable String certificateAuthorityData,
    @Nullable String version,
    @Nullable String status) {

  /** Checks the required fields. */
  public EksCluster {
    Objects.requireNonNull(accountId, "accountId must not be null");
    Objects.requireNonNull(region, "region must not be null");
    Objects.requireNonNull(name, "name must not be null");
  }

  /** A cluster known only by name, as {@code ListClusters} returns it. */
  public static EksCluster named(String accountId, String region, String name) {
    return new EksCluster(accountId, region, name, null, null, null, null, null);
  }

  /** Whether a kubeconfig entry can be made: endpoint and CA data are known. */
  public boolean isConnectable() {
    return endpoint != null && certificateAuthorityData != null;
  }

  /** The ARN if known, else one built from the account, region and name. */
  public String arnOrDerived() {
    return arn != null ? arn : "arn:aws:eks:" + region + ":" + accountId + ":cluster/" + name;
  }

  /** Account, region, name, status and version; the CA data is left out. */
  @Override
  public String toString() {
    return "EksCluster[" + accountId + "/" + region + "/" + name
        + (status == null ? "" : ", " + status)
        + (version == null ? "" : ", " + version)
        + (endpoint == null ? "" : ", " + endpoint)
        + "]";
  }
}
