package dev.stagefarm.coordinator.plan;

import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.SubmitBuildRequest;

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
}
