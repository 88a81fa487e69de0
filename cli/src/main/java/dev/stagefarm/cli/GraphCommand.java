package dev.stagefarm.cli;

import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.Dockerfiles;
import dev.stagefarm.dockerfile.graph.BuildOptions;
import dev.stagefarm.dockerfile.graph.BuildPlan;
import dev.stagefarm.dockerfile.graph.Platform;
import dev.stagefarm.dockerfile.graph.StageGraph;
import dev.stagefarm.dockerfile.instructions.DockerfileModel;
import dev.stagefarm.dockerfile.parser.Warning;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code stagefarm graph}: the stages a build of a Dockerfile runs, their bases, edges, readiness
 * order, and the stages the target does not need (skipped).
 */
@Command(
    name = "graph",
    mixinStandardHelpOptions = true,
    description = "Show the stage graph of a build: stages, bases, edges, readiness order.")
final class GraphCommand implements Callable<Integer> {

  enum Format {
    text,
    dot,
    json
  }

  @Mixin DockerfileSource source;

  @Option(names = "--target", description = "The stage to build (default: the last stage).")
  String target;

  @Option(
      names = "--build-arg",
      paramLabel = "KEY[=VALUE]",
      description = "A build argument; KEY alone takes the value of the environment variable.")
  List<String> buildArgs = List.of();

  @Option(
      names = "--platform",
      paramLabel = "OS/ARCH[/VARIANT]",
      description = "The target platform (default: linux/amd64).")
  String platform;

  @Option(
      names = "--format",
      defaultValue = "text",
      description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  Format format;

  @Override
  public Integer call() throws Exception {
    BuildOptions options = new BuildOptions(target, buildArgs(), targetPlatform(), null);
    BuildPlan plan;
    try {
      DockerfileModel model = Dockerfiles.parse(source.read());
      for (Warning warning : model.warnings()) {
        System.err.println(
            "warning: " + source.path() + ":" + warning.startLine() + ": " + warning.shortMessage());
      }
      plan = StageGraph.plan(model, options);
    } catch (DockerfileException e) {
      throw source.describe(e);
    }
    StageGraphView view = new StageGraphView(plan);
    Utf8Stdout.print(
        switch (format) {
          case text -> view.text(source.path().toString());
          case dot -> view.dot();
          case json -> view.json();
        });
    return 0;
  }

  private Map<String, String> buildArgs() {
    Map<String, String> args = new LinkedHashMap<>();
    for (String arg : buildArgs) {
      int eq = arg.indexOf('=');
      if (eq == 0) {
        throw new UserError("invalid --build-arg \"" + arg + "\": expected KEY=VALUE");
      }
      if (eq > 0) {
        args.put(arg.substring(0, eq), arg.substring(eq + 1));
      } else if (System.getenv(arg) != null) {
        // like docker build: a bare KEY takes its value from the environment, if set
        args.put(arg, System.getenv(arg));
      }
    }
    return args;
  }

  private Platform targetPlatform() {
    if (platform == null) {
      return null;
    }
    try {
      return Platform.parse(platform);
    } catch (IllegalArgumentException e) {
      throw new UserError("invalid --platform: " + e.getMessage());
    }
  }
}
