package dev.stagefarm.dockerfile.graph;

import dev.stagefarm.dockerfile.instructions.Instruction;
import dev.stagefarm.dockerfile.instructions.Stage;
import java.util.List;
import java.util.Optional;

/**
 * One stage of a build plan.
 *
 * @param stage the stage as parsed
 * @param base what it starts from, global ARGs expanded
 * @param platform its {@code --platform}, global ARGs expanded, or null
 * @param dependencies every edge from this stage (base, COPY --from, RUN --mount from=), in
 *     Dockerfile order, stages and external images
 * @param instructions what to execute: ONBUILD triggers of a base stage first, then the stage's
 *     own instructions (unexpanded; see {@link
 *     dev.stagefarm.dockerfile.instructions.StageScope})
 * @param status whether the target needs it
 */
public record PlannedStage(
    Stage stage,
    StageBase base,
    String platform,
    List<Dependency> dependencies,
    List<Instruction> instructions,
    Status status) {

  /** Whether a stage is built. */
  public enum Status {
    RUN,
    SKIPPED
  }

  public PlannedStage {
    dependencies = List.copyOf(dependencies);
    instructions = List.copyOf(instructions);
  }

  public int index() {
    return stage.index();
  }

  /** The {@code AS} name in lower case, if any. */
  public Optional<String> name() {
    return stage.nameIfAny();
  }

  /** The name, or {@code stage-N} (BuildKit's display name). */
  public String displayName() {
    return stage.displayName();
  }

  /** The indexes of the stages this one depends on, sorted, without repeats. */
  public List<Integer> dependsOn() {
    return dependencies.stream()
        .filter(Dependency::isStage)
        .map(Dependency::stageIndex)
        .distinct()
        .sorted()
        .toList();
  }

  /** The external images this stage copies or mounts from (not its base), without repeats. */
  public List<String> imageSources() {
    return dependencies.stream()
        .filter(d -> !d.isStage() && d.kind() != Dependency.Kind.BASE)
        .map(Dependency::image)
        .distinct()
        .toList();
  }

  public boolean runs() {
    return status == Status.RUN;
  }
}
