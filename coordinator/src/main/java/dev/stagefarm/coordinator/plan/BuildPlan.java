package dev.stagefarm.coordinator.plan;

import dev.stagefarm.proto.v1.Platform;
import java.util.List;
import java.util.Map;

/**
 * A build ready to schedule: the stages the target needs, in Dockerfile order.
 *
 * @param contextManifestKey the store key of the context manifest ({@code context/sha256/<hex>})
 */
public record BuildPlan(
    String buildId,
    byte[] dockerfile,
    String contextManifestKey,
    List<PlannedStage> stages,
    String targetStageId,
    Map<String, String> buildArgs,
    Platform platform) {

  public BuildPlan {
    stages = List.copyOf(stages);
    buildArgs = Map.copyOf(buildArgs);
  }

  public PlannedStage stage(String id) {
    return stages.stream()
        .filter(s -> s.id().equals(id))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no stage " + id + " in build " + buildId));
  }
}
