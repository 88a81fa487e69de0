package dev.stagefarm.cli.build;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.graph.BuildOptions;
import dev.stagefarm.dockerfile.graph.Platform;
import dev.stagefarm.dockerfile.graph.StageGraph;
import dev.stagefarm.dockerfile.instructions.InstructionParser;
import dev.stagefarm.dockerfile.parser.DockerfileParser;
import java.util.Map;

/**
 * Checks a build's Dockerfile on the client before any farm is contacted or started: syntax,
 * instructions, stage references and the target, with the same parser the coordinator uses. A
 * mistake is reported in well under a second instead of after the farm's start-up and planning;
 * the coordinator still checks everything again (it trusts no client).
 *
 * <p>Nothing here touches protobuf or gRPC: {@code build} runs this before it builds its request,
 * so a syntax error costs the parser's classes only (protobuf's descriptors alone are ~280 classes).
 */
public final class DockerfileCheck {
  private DockerfileCheck() {}

  /**
   * @param target the stage to build; empty for the last
   * @param platform the first of {@code --platform}'s values; {@code null} for the farm's own
   * @throws UserError naming the file, the line and the problem
   */
  public static void check(String fileName, byte[] dockerfile, String target, Map<String, String> buildArgs,
      Platform platform) {
    try {
      var model = InstructionParser.parse(DockerfileParser.parse(dockerfile));
      StageGraph.plan(model, new BuildOptions(target.isEmpty() ? null : target, buildArgs, platform, null));
    } catch (DockerfileException e) {
      throw new UserError(e.describe(fileName));
    } catch (IllegalArgumentException e) {
      throw new UserError(fileName + ": " + e.getMessage());
    }
  }

  /**
   * The first platform of a {@code --platform} flag as the planner takes it; {@code null} when the
   * flag is empty or malformed (the flag's own parser reports that, naming the flag).
   */
  public static Platform firstPlatform(String flag) {
    String[] parts = flag.split(",", -1)[0].strip().split("/", -1);
    if (flag.isBlank() || parts.length < 2 || parts.length > 3) {
      return null;
    }
    return new Platform(parts[0], parts[1], parts.length == 3 ? parts[2] : "");
  }
}
