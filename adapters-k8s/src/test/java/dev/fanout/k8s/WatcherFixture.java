package dev.fanout.k8s;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.jspecify.annotations.Nullable;

/** Namespaces on the mock API server, and the plan reports a watcher sends. */
final class WatcherFixture {

  /** One report a watcher's listener received. */
  record Finished(PlanPhase phase, PlanReport report) {}

  final Queue<Finished> finished = new ConcurrentLinkedQueue<>();
  final PlanListener listener = (phase, report) -> finished.add(new Finished(phase, report));
  private final KubernetesClient client;

  WatcherFixture(KubernetesClient client) {
    this.client = client;
  }

  void create(String name) {
    create(name, Map.of());
  }

  void create(String name, Map<String, String> labels) {
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(labels)
                .endMetadata()
                .build())
        .create();
  }

  void delete(String name) {
    client.namespaces().withName(name).delete();
  }

  @Nullable Namespace get(String name) {
    return client.namespaces().withName(name).get();
  }

  @Nullable String annotation(String name, String key) {
    Namespace namespace = get(name);
    if (namespace == null || namespace.getMetadata().getAnnotations() == null) {
      return null;
    }
    return namespace.getMetadata().getAnnotations().get(key);
  }

  List<PlanReport> reports(PlanPhase phase, String namespace) {
    return finished.stream()
        .filter(f -> f.phase() == phase && f.report().namespace().equals(namespace))
        .map(Finished::report)
        .toList();
  }

  PlanReport onlyReport(PlanPhase phase, String namespace) {
    List<PlanReport> reports = reports(phase, namespace);
    if (reports.size() != 1) {
      throw new AssertionError(
          "expected one " + phase + " report for " + namespace + ", got " + reports);
    }
    return reports.get(0);
  }
}
