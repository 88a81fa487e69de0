package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.content.StageResult;
import java.util.List;

/** Turns the target stage's result into a stored image and delivers the outputs the coordinator owns. */
@FunctionalInterface
public interface ImageAssembler {
  /**
   * Stores the image config and manifest as blobs and pushes when asked.
   *
   * @param tags the names the build gave ({@code -t})
   * @param push whether to push the image to the registries its tags name
   * @return the manifest digest ({@code sha256:<hex>})
   * @throws Exception with a message for the user when assembly or a push fails
   */
  String assemble(StageResult target, List<String> tags, boolean push) throws Exception;
}
