package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.SubmitBuildRequest;

/** Turns the target stage's result into a stored image and delivers the outputs the coordinator owns. */
@FunctionalInterface
public interface ImageAssembler {
  /**
   * Stores the image config and manifest as blobs and pushes when asked.
   *
   * @return the manifest digest ({@code sha256:<hex>})
   * @throws Exception with a message for the user when assembly or a push fails
   */
  String assemble(BuildPlan plan, ImageState target, SubmitBuildRequest request) throws Exception;
}
