package dev.stagefarm.dockerfile;

import dev.stagefarm.dockerfile.graph.BuildOptions;
import dev.stagefarm.dockerfile.graph.BuildPlan;
import dev.stagefarm.dockerfile.graph.StageGraph;
import dev.stagefarm.dockerfile.instructions.DockerfileModel;
import dev.stagefarm.dockerfile.instructions.InstructionParser;
import dev.stagefarm.dockerfile.parser.DockerfileParser;

/**
 * The frontend in one call: Dockerfile text to typed stages, or to a build plan.
 *
 * <pre>{@code
 * BuildPlan plan = Dockerfiles.plan(text, BuildOptions.defaults().withTarget("client"));
 * for (PlannedStage stage : plan.executionOrder()) { ... }
 * }</pre>
 *
 * Every problem is a {@link DockerfileException} naming the line.
 */
public final class Dockerfiles {

  private Dockerfiles() {}

  /** Parses and types a Dockerfile. */
  public static DockerfileModel parse(String dockerfile) {
    return InstructionParser.parse(DockerfileParser.parse(dockerfile));
  }

  /** Parses and types a Dockerfile given as UTF-8 bytes. */
  public static DockerfileModel parse(byte[] dockerfile) {
    return InstructionParser.parse(DockerfileParser.parse(dockerfile));
  }

  /** Parses a Dockerfile and plans the build of {@code options.target()}. */
  public static BuildPlan plan(String dockerfile, BuildOptions options) {
    return StageGraph.plan(parse(dockerfile), options);
  }

  /**
   * Parses a Dockerfile and plans the build of the stage at {@code stageIndex} (what a worker
   * handed one stage needs: {@code plan.target().instructions()}, ONBUILD triggers of a base stage
   * included, and {@code plan.scopeFor(stageIndex, ...)}). Unlike {@link #plan}, the checks and
   * ONBUILD triggers apply to the stages this one reaches, whatever the build's target.
   */
  public static BuildPlan planStage(String dockerfile, BuildOptions options, int stageIndex) {
    return StageGraph.planStage(parse(dockerfile), options, stageIndex);
  }
}
