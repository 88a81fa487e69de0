package dev.stagefarm.coordinator.plan;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.StageProgram;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * One stage of a planned build, with everything needed to publish its task.
 *
 * @param id unique in the build: {@code <index>} or {@code <index>-<name>}
 * @param name the stage name, or its index when unnamed
 * @param index position in the Dockerfile
 * @param program the compiled stage
 * @param opKeys the cache key after each op of the program ({@code CacheKeys.chain})
 * @param base the image (or scratch) it starts from; empty when it starts from another stage
 * @param baseStageId the stage it starts from ({@code FROM build})
 * @param stageInputs the program inputs that are stages of this build: input id → stage id
 * @param imageInputs the program inputs that are images: input id → the pinned image
 * @param cachedResult the result rebuilt from cache records when every op hit
 */
public record PlannedStage(
    String id,
    String name,
    int index,
    StageProgram program,
    List<CacheKey> opKeys,
    Optional<StageResult> base,
    Optional<String> baseStageId,
    Map<String, String> stageInputs,
    Map<String, StageResult> imageInputs,
    Optional<StageResult> cachedResult) {

  public PlannedStage {
    opKeys = List.copyOf(opKeys);
    stageInputs = Map.copyOf(stageInputs);
    imageInputs = Map.copyOf(imageInputs);
  }

  /** The key after the last op: it covers the whole chain (base, inputs, ops). */
  public CacheKey chainKey() {
    return opKeys.isEmpty() ? program.rootKey() : opKeys.getLast();
  }

  /** Ids of the stages whose results this one needs. */
  public List<String> dependsOn() {
    LinkedHashSet<String> ids = new LinkedHashSet<>();
    baseStageId.ifPresent(ids::add);
    ids.addAll(new TreeSet<>(stageInputs.values()));
    return List.copyOf(ids);
  }
}
