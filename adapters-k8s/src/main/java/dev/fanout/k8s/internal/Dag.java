package dev.fanout.k8s.internal;

import dev.fanout.k8s.ProvisioningStep;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Orders a plan's steps so that every step comes after its dependencies, or names the cycle. */
public final class Dag {
  private static final int WHITE = 0;
  private static final int GREY = 1;
  private static final int BLACK = 2;

  private Dag() {}

  /**
   * The steps in dependency order: a depth-first post-order that follows the declaration order,
   * so independent steps keep the order they were declared in.
   *
   * @throws IllegalArgumentException if a step depends on a step that is not in the plan, or the
   *     dependencies form a cycle; the message names the missing step or the whole cycle
   */
  public static List<ProvisioningStep> order(String plan, List<ProvisioningStep> steps) {
    Map<String, ProvisioningStep> byName = new HashMap<>();
    for (ProvisioningStep step : steps) {
      if (byName.putIfAbsent(step.name(), step) != null) {
        throw new IllegalArgumentException(
            "plan '" + plan + "' declares step '" + step.name() + "' twice");
      }
    }
    for (ProvisioningStep step : steps) {
      for (String dependency : step.dependsOn()) {
        if (!byName.containsKey(dependency)) {
          throw new IllegalArgumentException(
              "step '"
                  + step.name()
                  + "' of plan '"
                  + plan
                  + "' depends on '"
                  + dependency
                  + "', which is not a step of the plan; its steps: "
                  + steps.stream().map(ProvisioningStep::name).toList());
        }
      }
    }
    Map<String, Integer> colour = new HashMap<>();
    List<ProvisioningStep> ordered = new ArrayList<>(steps.size());
    List<String> path = new ArrayList<>();
    for (ProvisioningStep step : steps) {
      visit(plan, step, byName, colour, path, ordered);
    }
    return List.copyOf(ordered);
  }

  // Plans are small (a handful of steps), so recursion depth is no concern.
  private static void visit(
      String plan,
      ProvisioningStep step,
      Map<String, ProvisioningStep> byName,
      Map<String, Integer> colour,
      List<String> path,
      List<ProvisioningStep> ordered) {
    int c = colour.getOrDefault(step.name(), WHITE);
    if (c == BLACK) {
      return;
    }
    if (c == GREY) {
      List<String> cycle = new ArrayList<>(path.subList(path.indexOf(step.name()), path.size()));
      cycle.add(step.name());
      throw new IllegalArgumentException(
          "plan '"
              + plan
              + "' has a dependency cycle: "
              + String.join(" -> ", cycle)
              + " (each step depends on the next)");
    }
    colour.put(step.name(), GREY);
    path.add(step.name());
    for (String dependency : step.dependsOn()) {
      visit(plan, byName.get(dependency), byName, colour, path, ordered);
    }
    path.remove(path.size() - 1);
    colour.put(step.name(), BLACK);
    ordered.add(step);
  }
}
