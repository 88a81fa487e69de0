package dev.stagefarm.coordinator.compile;

import dev.stagefarm.dockerfile.Dockerfiles;
import dev.stagefarm.dockerfile.graph.BuildOptions;
import dev.stagefarm.dockerfile.graph.BuildPlan;
import dev.stagefarm.dockerfile.graph.Dependency;
import dev.stagefarm.dockerfile.graph.PlannedStage;
import dev.stagefarm.dockerfile.graph.StageBase;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.ContainerConfig;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.ProgramInput;
import dev.stagefarm.program.StageProgram;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Compiles a Dockerfile's stages with {@link StageCompiler} alone: images come from a map (a
 * busybox-like default), stages and images a COPY --from names become inputs {@code stage:<index>}
 * and {@code image:<reference>}, and every key is the same fake (keys are {@code CacheKeys}' job).
 */
final class TestBuild {
  static final CacheKey KEY = new CacheKey("0".repeat(64));
  static final String PINNED = "@sha256:" + "1".repeat(64);

  final TestContext context;
  final Map<String, ImageConfig> images = new HashMap<>();
  final Map<String, String> buildArgs = new HashMap<>();
  String buildId = "build-1";

  TestBuild(TestContext context) {
    this.context = context;
  }

  static ImageConfig busybox() {
    return ImageConfig.scratch(Platform.LINUX_AMD64).updateConfig(c -> c.withEnv("PATH", "/bin"));
  }

  TestBuild image(String reference, UnaryOperator<ContainerConfig> config) {
    images.put(reference, busybox().updateConfig(config));
    return this;
  }

  /** The programs of the stages the last stage needs, in Dockerfile order. */
  List<StageProgram> compile(String dockerfile) {
    BuildPlan graph = Dockerfiles.plan(dockerfile, new BuildOptions(null, buildArgs, null, null));
    StageCompiler compiler = new StageCompiler(context.selector(), buildId, Platform.LINUX_AMD64, Optional.empty());
    Map<Integer, StageCompiler.Compiled> done = new HashMap<>();
    List<StageProgram> programs = new ArrayList<>();
    for (PlannedStage stage : graph.runStages()) {
      StageCompiler.Start start = switch (stage.base()) {
        case StageBase.Image image -> new StageCompiler.Start(new ProgramBase.Image(image.reference() + PINNED), KEY,
            images.getOrDefault(image.reference(), busybox()), Map.of());
        case StageBase.StageRef ref -> new StageCompiler.Start(new ProgramBase.Stage(Integer.toString(ref.index())),
            KEY, done.get(ref.index()).config(), done.get(ref.index()).args());
        case StageBase.Scratch scratch ->
            new StageCompiler.Start(new ProgramBase.Scratch(), KEY, ImageConfig.scratch(Platform.LINUX_AMD64), Map.of());
      };
      StageCompiler.Compiled compiled = compiler.compile(graph, stage, start, (kind, reference, line) -> input(graph, kind, reference));
      done.put(stage.index(), compiled);
      programs.add(compiled.program());
    }
    return programs;
  }

  StageProgram last(String dockerfile) {
    return compile(dockerfile).getLast();
  }

  private static ProgramInput input(BuildPlan graph, Dependency.Kind kind, String reference) {
    for (PlannedStage stage : graph.stages()) {
      if (stage.stage().isNamed(reference)
          || (kind == Dependency.Kind.COPY_FROM && reference.equals(Integer.toString(stage.index())))) {
        return new ProgramInput(ProgramInput.stageId(Integer.toString(stage.index())), KEY, reference);
      }
    }
    return new ProgramInput(ProgramInput.imageId(reference + PINNED), KEY, reference);
  }
}
