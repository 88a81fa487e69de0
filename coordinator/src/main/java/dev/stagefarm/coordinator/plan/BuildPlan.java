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

  /**
   * Whether stage {@code id}'s layers end up in the target image: the target and the stages it
   * starts from ({@code FROM build}, transitively). The others only feed later stages
   * ({@code COPY --from}, {@code RUN --mount from=}); their layers never leave the farm.
   */
  public boolean layersReachTarget(String id) {
    String current = targetStageId;
    for (int hops = 0; current != null && hops <= stages.size(); hops++) {
      if (current.equals(id)) {
        return true;
      }
      current = stage(current).baseStageId().orElse(null);
    }
    return false;
  }
}
