package dev.stagefarm.cli.build;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.graph.BuildOptions;
import dev.stagefarm.dockerfile.graph.Platform;
import dev.stagefarm.dockerfile.graph.StageGraph;
import dev.stagefarm.dockerfile.instructions.InstructionParser;
import dev.stagefarm.dockerfile.parser.DockerfileParser;
import dev.stagefarm.proto.v1.SubmitBuildRequest;

/**
 * Checks a build's Dockerfile on the client before any farm is contacted or started: syntax,
 * instructions, stage references and the target, with the same parser the coordinator uses. A
 * mistake is reported in well under a second instead of after the farm's start-up and planning;
 * the coordinator still checks everything again (it trusts no client).
 */
public final class DockerfileCheck {
  private DockerfileCheck() {}

  /** @throws UserError naming the file, the line and the problem */
  public static void check(String fileName, SubmitBuildRequest request) {
    try {
      var model = InstructionParser.parse(DockerfileParser.parse(request.getDockerfile().toByteArray()));
      var platform = request.getPlatform();
      Platform target = platform.getOs().isEmpty() && platform.getArchitecture().isEmpty()
          ? null : new Platform(platform.getOs(), platform.getArchitecture(), platform.getVariant());
      StageGraph.plan(model, new BuildOptions(request.getTarget().isEmpty() ? null : request.getTarget(),
          request.getBuildArgsMap(), target, null));
    } catch (DockerfileException e) {
      throw new UserError(e.describe(fileName));
    } catch (IllegalArgumentException e) {
      throw new UserError(fileName + ": " + e.getMessage());
    }
  }
}
