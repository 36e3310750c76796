package dev.fanout.k8s.internal;

import dev.fanout.k8s.ProvisioningStep;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
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
    for (ProvisioningStep step : steps) {
      visit(plan, step, byName, colour, ordered);
    }
    return List.copyOf(ordered);
  }

  /**
   * Depth-first post-order from {@code root}, with an explicit stack (plans may be deep; the call
   * stack is not). The stack holds the current path: a GREY step met again closes a cycle.
   */
  private static void visit(
      String plan,
      ProvisioningStep root,
      Map<String, ProvisioningStep> byName,
      Map<String, Integer> colour,
      List<ProvisioningStep> ordered) {
    if (colour.getOrDefault(root.name(), WHITE) != WHITE) {
      return;
    }
    ArrayDeque<Frame> path = new ArrayDeque<>();
    colour.put(root.name(), GREY);
    path.push(new Frame(root));
    while (!path.isEmpty()) {
      Frame top = path.peek();
      List<String> dependencies = top.step.dependsOn();
      if (top.next == dependencies.size()) {
        path.pop();
        colour.put(top.step.name(), BLACK);
        ordered.add(top.step);
        continue;
      }
      ProvisioningStep dependency = byName.get(dependencies.get(top.next++));
      int c = colour.getOrDefault(dependency.name(), WHITE);
      if (c == GREY) {
        throw cycle(plan, path, dependency.name());
      }
      if (c == WHITE) {
        colour.put(dependency.name(), GREY);
        path.push(new Frame(dependency));
      }
    }
  }

  private static IllegalArgumentException cycle(
      String plan, ArrayDeque<Frame> path, String closing) {
    List<String> cycle = new ArrayList<>();
    for (Iterator<Frame> it = path.descendingIterator(); it.hasNext(); ) {
      String name = it.next().step.name();
      if (!cycle.isEmpty() || name.equals(closing)) {
        cycle.add(name);
      }
    }
    cycle.add(closing);
    return new IllegalArgumentException(
        "plan '"
            + plan
            + "' has a dependency cycle: "
            + String.join(" -> ", cycle)
            + " (each step depends on the next)");
  }

  /** A step on the current path, and the index of its next dependency to visit. */
  private static final class Frame {
    final ProvisioningStep step;
    int next;

    Frame(ProvisioningStep step) {
      this.step = step;
    }
  }
}
