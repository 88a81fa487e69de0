package dev.stagefarm.coordinator.plan;

import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.Instruction;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One stage of a planned build, with everything needed to publish its task.
 *
 * @param id unique in the build: {@code <index>} or {@code <index>-<name>}
 * @param name the stage name, or its index when unnamed
 * @param index position in the Dockerfile
 * @param base the image (or scratch) it starts from; empty when it starts from another stage
 * @param baseStageId the stage it starts from ({@code FROM build})
 * @param stageInputs the stages it copies from: stage id → the names the Dockerfile may use
 *     for it ({@code --from=build}, {@code --from=1})
 * @param imageInputs images it copies from by reference, as written → pinned image state
 * @param instructions the task's instruction summaries with their cache keys
 * @param chainKey the key after the last instruction (empty when caching is off)
 * @param cachedResult the result rebuilt from cache records when every instruction hit
 */
public record PlannedStage(
    String id,
    String name,
    int index,
    Optional<ImageState> base,
    Optional<String> baseStageId,
    Map<String, List<String>> stageInputs,
    Map<String, ImageState> imageInputs,
    List<Instruction> instructions,
    String chainKey,
    Optional<ImageState> cachedResult) {

  public PlannedStage {
    stageInputs = Map.copyOf(stageInputs);
    imageInputs = Map.copyOf(imageInputs);
    instructions = List.copyOf(instructions);
  }

  /** Ids of the stages whose results this one needs. */
  public List<String> dependsOn() {
    java.util.LinkedHashSet<String> ids = new java.util.LinkedHashSet<>();
    baseStageId.ifPresent(ids::add);
    ids.addAll(new java.util.TreeSet<>(stageInputs.keySet()));
    return List.copyOf(ids);
  }
}
