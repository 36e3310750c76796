package dev.fanout.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The shipped RBAC manifest parses and grants what the watcher calls, and no more. */
class RbacManifestTest {

  @Test
  void grantsExactlyTheVerbsTheWatcherUses() throws Exception {
    List<HasMetadata> objects;
    try (InputStream in = Files.newInputStream(Path.of("rbac.yaml"))) {
      objects = Serialization.unmarshal(in);
    }
    assertThat(objects)
        .extracting(HasMetadata::getKind)
        .containsExactly(
            "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding");

    ClusterRole cluster = (ClusterRole) objects.get(1);
    assertThat(cluster.getRules()).hasSize(1);
    PolicyRule namespaces = cluster.getRules().get(0);
    assertThat(namespaces.getApiGroups()).containsExactly("");
    assertThat(namespaces.getResources()).containsExactly("namespaces");
    assertThat(namespaces.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch", "patch");

    Role leases = (Role) objects.get(3);
    Set<String> verbs =
        leases.getRules().stream().flatMap(r -> r.getVerbs().stream()).collect(Collectors.toSet());
    assertThat(verbs).containsExactlyInAnyOrder("create", "get", "patch");
    assertThat(leases.getRules())
        .allSatisfy(r -> assertThat(r.getResources()).containsExactly("leases"));
  }
}
