package dev.stagefarm.dockerfile.graph;

import dev.stagefarm.dockerfile.instructions.StageScope;
import dev.stagefarm.dockerfile.shell.ShellLex;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The stages a build runs, their edges and order, and the ARG values they see.
 *
 * @param targetIndex the index of the stage the build produces
 * @param stages every stage of the Dockerfile in index order, each marked run or skipped
 * @param globalArgs the global scope: predefined platform ARGs and the ARGs before the first FROM,
 *     build-arg overrides applied
 * @param buildArgs the user's {@code --build-arg} values
 * @param targetPlatform {@code TARGETPLATFORM}
 * @param buildPlatform {@code BUILDPLATFORM}
 * @param escapeToken the Dockerfile's escape character (for expanding words)
 */
public record BuildPlan(
    int targetIndex,
    List<PlannedStage> stages,
    Map<String, String> globalArgs,
    Map<String, String> buildArgs,
    Platform targetPlatform,
    Platform buildPlatform,
    char escapeToken) {

  public BuildPlan {
    stages = List.copyOf(stages);
    globalArgs = Map.copyOf(globalArgs);
    buildArgs = Map.copyOf(buildArgs);
  }

  /** The stage the build produces. */
  public PlannedStage target() {
    return stages.get(targetIndex);
  }

  /** The stage at {@code index}. */
  public PlannedStage stage(int index) {
    return stages.get(index);
  }

  /** The stages the target needs, in index order. */
  public List<PlannedStage> runStages() {
    return stages.stream().filter(PlannedStage::runs).toList();
  }

  /**
   * The stages to run grouped by readiness: the first wave has no stage dependencies, each later
   * wave depends only on earlier waves. Stages in one wave can run in parallel.
   */
  public List<List<PlannedStage>> readinessWaves() {
    Map<Integer, Integer> wave = new HashMap<>();
    List<List<PlannedStage>> waves = new ArrayList<>();
    // Dependencies of a run stage always have a smaller index (checked when planning).
    for (PlannedStage s : runStages()) {
      int level = 0;
      for (int dep : s.dependsOn()) {
        level = Math.max(level, wave.get(dep) + 1);
      }
      wave.put(s.index(), level);
      while (waves.size() <= level) {
        waves.add(new ArrayList<>());
      }
      waves.get(level).add(s);
    }
    return waves.stream().map(List::copyOf).toList();
  }

  /** The stages to run in an order where each comes after everything it depends on. */
  public List<PlannedStage> executionOrder() {
    return readinessWaves().stream().flatMap(List::stream).toList();
  }

  /**
   * The variable scope to execute stage {@code index} with.
   *
   * @param baseEnv the base image's config env ({@code NAME=value})
   * @param inheritedArgs for a stage built on another stage: the ARG values that stage ended with
   *     ({@link StageScope#argValues()}); else empty
   */
  public StageScope scopeFor(int index, List<String> baseEnv, Map<String, String> inheritedArgs) {
    stage(index); // bounds check
    return new StageScope(
        new ShellLex(escapeToken), baseEnv, inheritedArgs, globalArgs, buildArgs);
  }
}
