package dev.stagefarm.coordinator.plan;

import dev.stagefarm.proto.v1.SubmitBuildRequest;

/** Turns a submitted build into a {@link BuildPlan}. */
@FunctionalInterface
public interface BuildPlanner {
  BuildPlan plan(String buildId, SubmitBuildRequest request) throws PlanningException;
}
