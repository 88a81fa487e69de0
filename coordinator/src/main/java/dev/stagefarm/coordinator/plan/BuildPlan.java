package dev.stagefarm.coordinator.plan;

import dev.stagefarm.coordinator.port.PinnedImage;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A build ready to schedule: the compiled stages the target needs, in Dockerfile order, and the
 * base images planning pinned (by reference as written), which the journal keeps for a resume.
 */
public record BuildPlan(
    String buildId, List<PlannedStage> stages, String targetStageId, Map<String, PinnedImage> pinnedImages) {

  public BuildPlan {
    stages = List.copyOf(stages);
    pinnedImages = Collections.unmodifiableMap(new LinkedHashMap<>(pinnedImages));
  }

  /** A plan that pinned no base image (scratch, or a test's plan). */
  public BuildPlan(String buildId, List<PlannedStage> stages, String targetStageId) {
    this(buildId, stages, targetStageId, Map.of());
  }

  public PlannedStage stage(String id) {
    return stages.stream()
        .filter(s -> s.id().equals(id))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no stage " + id + " in build " + buildId));
  }
}
