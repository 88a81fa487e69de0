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
   * This planner, also taking hits from {@code imported} (a build's --cache-from) where the farm's own records
   * miss. Planners that read no cache records need not override it.
   */
  default BuildPlanner withImportedCache(dev.stagefarm.coordinator.port.CacheRecords imported) {
    return this;
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
