package dev.stagefarm.coordinator.schedule;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The longest remaining path of every stage: its own weight plus the heaviest chain of stages
 * that (transitively) depend on it. Ready stages with the longest remaining path go first, so
 * the chain that decides the build's duration never waits behind short side branches.
 */
final class CriticalPath {
  private CriticalPath() {}

  /**
   * @throws IllegalArgumentException when a dependency is unknown or the stages form a cycle
   */
  static Map<String, Integer> remainingPaths(List<StageSpec> stages) {
    Map<String, StageSpec> byId = new HashMap<>();
    for (StageSpec stage : stages) {
      if (byId.put(stage.id(), stage) != null) {
        throw new IllegalArgumentException("duplicate stage id " + stage.id());
      }
    }
    Map<String, List<StageSpec>> dependents = new HashMap<>();
    for (StageSpec stage : stages) {
      for (String dependency : stage.dependsOn()) {
        if (!byId.containsKey(dependency)) {
          throw new IllegalArgumentException(
              "stage " + stage.name() + " depends on unknown stage " + dependency);
        }
        dependents.computeIfAbsent(dependency, k -> new ArrayList<>()).add(stage);
      }
    }
    Map<String, Integer> memo = new HashMap<>();
    for (StageSpec stage : stages) {
      compute(stage, dependents, memo, new ArrayList<>());
    }
    return memo;
  }

  private static int compute(
      StageSpec stage,
      Map<String, List<StageSpec>> dependents,
      Map<String, Integer> memo,
      List<String> visiting) {
    Integer known = memo.get(stage.id());
    if (known != null) {
      return known;
    }
    if (visiting.contains(stage.id())) {
      throw new IllegalArgumentException("stages form a cycle: " + String.join(" -> ", visiting));
    }
    visiting.add(stage.id());
    int heaviest = 0;
    for (StageSpec dependent : dependents.getOrDefault(stage.id(), List.of())) {
      heaviest = Math.max(heaviest, compute(dependent, dependents, memo, visiting));
    }
    visiting.remove(visiting.size() - 1);
    int length = stage.weight() + heaviest;
    memo.put(stage.id(), length);
    return length;
  }
}
