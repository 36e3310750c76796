package dev.fanout.aws;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What {@link KubeconfigWriter#write} did.
 *
 * @param path the kubeconfig file
 * @param added contexts added (by name)
 * @param replaced contexts that existed and were replaced (by name)
 * @param kept how many other contexts were left as they were
 * @param skipped clusters without endpoint or CA data (not described, or still being created)
 * @param written whether the file was written; {@code false} when its content would not change
 */
public record KubeconfigUpdate(
    Path path,
    List<String> added,
    List<String> replaced,
    int kept,
    List<EksCluster> skipped,
    boolean written) {

  /** Copies the lists. */
  public KubeconfigUpdate {
    Objects.requireNonNull(path, "path must not be null");
    added = List.copyOf(added);
    replaced = List.copyOf(replaced);
    skipped = List.copyOf(skipped);
    if (kept < 0) {
      throw new IllegalArgumentException("kept must not be negative, was " + kept);
    }
  }

  /**
   * One line: {@code Successful: 18 clusters, Failed: 2 clusters,
   * Total: 20 clusters}, where "failed" are the skipped ones.
   */
  public String summary() {
    int ok = added.size() + replaced.size();
    return "Successful: " + ok + " clusters, Failed: " + skipped.size() + " clusters, Total: "
        + (ok + skipped.size()) + " clusters (" + added.size() + " added, " + replaced.size()
        + " replaced, " + kept + " other contexts kept" + (written ? "" : ", file unchanged") + ")";
  }
}
