package dev.stagefarm.coordinator.plan;

import dev.stagefarm.coordinator.port.PinnedImage;
import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.util.Map;

/** Turns a submitted build into a {@link BuildPlan}. */
@FunctionalInterface
public interface BuildPlanner {
  BuildPlan plan(String buildId, SubmitBuildRequest request) throws PlanningException;

  /**
   * Plans with the request's context manifest already read (and validated) by the caller, so it
   * is not read from the store a second time; planners that do not read one ignore it.
   */
  default BuildPlan plan(String buildId, SubmitBuildRequest request, ContextManifest manifest)
      throws PlanningException {
    return plan(buildId, request);
  }

  /**
   * Plans a build again after a coordinator restart, against the base images its first plan
   * pinned: a tag is never resolved again, so every stage of the build sees the same base. A
   * reference without a pin fails planning. Planners that resolve nothing need not override it.
   */
  default BuildPlan replan(String buildId, SubmitBuildRequest request, Map<String, PinnedImage> pins)
      throws PlanningException {
    return plan(buildId, request);
  }
}
