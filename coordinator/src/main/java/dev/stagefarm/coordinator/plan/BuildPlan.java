package dev.stagefarm.coordinator.plan;

import java.util.List;

/** A build ready to schedule: the compiled stages the target needs, in Dockerfile order. */
public record BuildPlan(String buildId, List<PlannedStage> stages, String targetStageId) {

  public BuildPlan {
    stages = List.copyOf(stages);
  }

  public PlannedStage stage(String id) {
    return stages.stream()
        .filter(s -> s.id().equals(id))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no stage " + id + " in build " + buildId));
  }
}
