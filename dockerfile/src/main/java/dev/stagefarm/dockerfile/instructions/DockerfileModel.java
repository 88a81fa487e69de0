package dev.stagefarm.dockerfile.instructions;

import dev.stagefarm.dockerfile.parser.Warning;
import java.util.List;
import java.util.Optional;

/**
 * A whole Dockerfile as typed instructions (BuildKit's {@code instructions.Parse} result).
 *
 * @param metaArgs the ARG instructions before the first FROM (global scope, usable in FROM)
 * @param stages the stages in order
 * @param escapeToken the escape character ({@code \} or a backtick)
 * @param warnings the parser's warnings
 */
public record DockerfileModel(
    List<ArgInstruction> metaArgs, List<Stage> stages, char escapeToken, List<Warning> warnings) {

  public DockerfileModel {
    metaArgs = List.copyOf(metaArgs);
    stages = List.copyOf(stages);
    warnings = List.copyOf(warnings);
  }

  /** The stage with this name (case-insensitive), if any. */
  public Optional<Stage> stageNamed(String name) {
    return stages.stream().filter(s -> s.isNamed(name)).findFirst();
  }
}
