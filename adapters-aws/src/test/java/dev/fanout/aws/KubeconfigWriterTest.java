package dev.fanout.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

class KubeconfigWriterTest {
  static final String A = "111111111111";
  static final String B = "222222222222";

  @TempDir Path dir;

  static EksCluster cluster(String account, String region, String name) {
    return new EksCluster(
        account,
        region,
        name,
        "arn:aws:eks:" + region + ":" + account + ":cluster/" + name,
        "https://" + name + ".eks.example",
        "Q0EtZGF0YS0" + name,
        "1.31",
        "ACTIVE");
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> read(Path file) throws IOException {
    return (Map<String, Object>) new Yaml().load(Files.readString(file));
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> list(Map<String, Object> config, String key) {
    return (List<Map<String, Object>>) config.get(key);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }

  @Test
  void writesOneClusterUserAndContextPerClusterWithAnExecToken() throws Exception {
    Path file = dir.resolve("kube").resolve("config");
    KubeconfigUpdate update =
        KubeconfigWriter.builder(file)
            .profile(account -> account.equals(A) ? "prod" : null)
            .build()
            .write(List.of(cluster(A, "eu-west-1", "web"), cluster(B, "us-east-1", "api")));

    assertThat(update.written()).isTrue();
    assertThat(update.added()).containsExactly("arn:aws:eks:eu-west-1:" + A + ":cluster/web", "arn:aws:eks:us-east-1:" + B + ":cluster/api");
    assertThat(update.summary()).startsWith("Successful: 2 clusters, Failed: 0 clusters, Total: 2 clusters");
    Map<String, Object> config = read(file);
    assertThat(config).containsEntry("apiVersion", "v1").containsEntry("kind", "Config");
    String web = "arn:aws:eks:eu-west-1:" + A + ":cluster/web";
    Map<String, Object> webCluster = list(config, "clusters").getFirst();
    assertThat(webCluster.get("name")).isEqualTo(web);
    assertThat(map(webCluster.get("cluster")))
        .containsEntry("server", "https://web.eks.example")
        .containsEntry("certificate-authority-data", "Q0EtZGF0YS0web");
    assertThat(map(list(config, "contexts").getFirst().get("context")))
        .containsEntry("cluster", web)
        .containsEntry("user", web);
    Map<String, Object> exec = map(map(list(config, "users").getFirst().get("user")).get("exec"));
    assertThat(exec)
        .containsEntry("apiVersion", "client.authentication.k8s.io/v1beta1")
        .containsEntry("command", "aws")
        .containsEntry(
            "args", List.of("--region", "eu-west-1", "eks", "get-token", "--cluster-name", "web", "--output", "json"))
        .containsEntry("env", List.of(Map.of("name", "AWS_PROFILE", "value", "prod")));
    Map<String, Object> apiExec = map(map(list(config, "users").get(1).get("user")).get("exec"));
    assertThat(apiExec).doesNotContainKey("env");
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }
    assertThat(listing(file.getParent())).containsExactly("config");
  }

  @Test
  void mergesIntoAnExistingFileKeepingWhatItDoesNotReplace() throws Exception {
    String web = "arn:aws:eks:eu-west-1:" + A + ":cluster/web";
    Path file = dir.resolve("config");
    Files.writeString(
        file,
        """
        apiVersion: v1
        kind: Config
        preferences: {}
        current-context: minikube
        clusters:
        - cluster:
            server: https://192.168.49.2:8443
            certificate-authority: /home/me/.minikube/ca.crt
            extensions:
            - name: cluster_info
              extension:
                last-update: 2024-01-01
          name: minikube
        - cluster:
            server: https://stale.example
            certificate-authority-data: b2xk
          name: %1$s
        contexts:
        - context: {cluster: minikube, user: minikube}
          name: minikube
        - context: {cluster: %1$s, user: %1$s}
          name: %1$s
        users:
        - name: minikube
          user:
            client-certificate: /home/me/.minikube/client.crt
        - name: %1$s
          user:
            token: old-static-token
        """
            .formatted(web));

    KubeconfigUpdate update =
        KubeconfigWriter.builder(file)
            .build()
            .write(List.of(cluster(A, "eu-west-1", "web"), cluster(B, "us-east-1", "api")));

    assertThat(update.replaced()).containsExactly(web);
    assertThat(update.added()).containsExactly("arn:aws:eks:us-east-1:" + B + ":cluster/api");
    assertThat(update.kept()).isEqualTo(1);
    Map<String, Object> config = read(file);
    assertThat(config).containsEntry("current-context", "minikube").containsEntry("preferences", Map.of());
    assertThat(list(config, "clusters")).extracting(c -> c.get("name"))
        .containsExactly("minikube", web, "arn:aws:eks:us-east-1:" + B + ":cluster/api");
    assertThat(list(config, "contexts")).extracting(c -> c.get("name"))
        .containsExactly("minikube", web, "arn:aws:eks:us-east-1:" + B + ":cluster/api");
    Map<String, Object> minikube = map(list(config, "clusters").getFirst().get("cluster"));
    assertThat(minikube).containsEntry("server", "https://192.168.49.2:8443");
    // A date-like string stays what it was written as.
    assertThat(Files.readString(file)).contains("last-update: '2024-01-01'");
    assertThat(map(list(config, "clusters").get(1).get("cluster"))).containsEntry("server", "https://web.eks.example");
    assertThat(map(list(config, "users").get(1).get("user"))).containsOnlyKeys("exec");
    assertThat(map(list(config, "users").getFirst().get("user")))
        .containsEntry("client-certificate", "/home/me/.minikube/client.crt");
  }

  @Test
  void aSecondWriteOfTheSameClustersChangesNothing() throws Exception {
    Path file = dir.resolve("config");
    KubeconfigWriter writer = KubeconfigWriter.builder(file).currentContext("x").build();
    writer.write(List.of(cluster(A, "eu-west-1", "web")));
    String first = Files.readString(file);
    KubeconfigUpdate again = writer.write(List.of(cluster(A, "eu-west-1", "web")));
    assertThat(again.written()).isFalse();
    assertThat(again.replaced()).hasSize(1);
    assertThat(Files.readString(file)).isEqualTo(first).contains("current-context: x");
  }

  @Test
  void clustersWithoutConnectionDetailsAreSkippedAndReported() throws Exception {
    Path file = dir.resolve("config");
    EksCluster creating = EksCluster.named(A, "eu-west-1", "creating");
    KubeconfigUpdate update = KubeconfigWriter.builder(file).build().write(List.of(creating, cluster(A, "eu-west-1", "web")));
    assertThat(update.skipped()).containsExactly(creating);
    assertThat(update.summary()).startsWith("Successful: 1 clusters, Failed: 1 clusters, Total: 2 clusters");
  }

  @Test
  void contextNamesCanBeChosenButMustBeUnique() throws Exception {
    Path file = dir.resolve("config");
    KubeconfigWriter byName = KubeconfigWriter.builder(file).contextName(EksCluster::name).build();
    assertThat(byName.render(null, List.of(cluster(A, "eu-west-1", "web")))).contains("name: web");
    assertThatThrownBy(() -> byName.write(List.of(cluster(A, "eu-west-1", "web"), cluster(B, "us-east-1", "web"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("two clusters map to the context name 'web'; make contextName unique");
    assertThat(file).doesNotExist();
  }

  @Test
  void aFileThatIsNotAKubeconfigIsLeftAloneAndTheErrorSaysWhy() throws Exception {
    Path file = dir.resolve("config");
    String notAList = "apiVersion: v1\nclusters: 5\n";
    Files.writeString(file, notAList);
    KubeconfigWriter writer = KubeconfigWriter.builder(file).build();
    assertThatThrownBy(() -> writer.write(List.of(cluster(A, "eu-west-1", "web"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("kubeconfig " + file + ": 'clusters' must be a list, was a scalar (Integer)");
    assertThat(Files.readString(file)).isEqualTo(notAList);

    // Broken YAML: the message says where, and does not quote the file (it may hold tokens).
    String broken = "users:\n- name: x\n  user:\n    token: SECRET-TOKEN-in-kubeconfig\n   bad: [\n";
    Files.writeString(file, broken);
    assertThatThrownBy(() -> writer.write(List.of(cluster(A, "eu-west-1", "web"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("kubeconfig " + file + " is not valid YAML at line ")
        .message()
        .doesNotContain("SECRET-TOKEN");
    assertThat(Files.readString(file)).isEqualTo(broken);
    assertThat(listing(dir)).containsExactly("config");
  }

  @Test
  void aFailedMoveLeavesNoTemporaryFileBehind() throws Exception {
    Path target = dir.resolve("config");
    Files.createDirectories(target.resolve("not-empty"));
    assertThatThrownBy(() -> KubeconfigWriter.writeAtomically(target, "x: 1\n")).isInstanceOf(IOException.class);
    assertThat(listing(dir)).containsExactly("config");
    assertThat(target.resolve("not-empty")).isDirectory();
  }

  private static List<String> listing(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
