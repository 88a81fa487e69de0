package dev.stagefarm.dockerfile.graph;

import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.graph.Dependency.Kind;
import dev.stagefarm.dockerfile.instructions.ArgDefinition;
import dev.stagefarm.dockerfile.instructions.ArgInstruction;
import dev.stagefarm.dockerfile.instructions.CopyInstruction;
import dev.stagefarm.dockerfile.instructions.DockerfileModel;
import dev.stagefarm.dockerfile.instructions.Instruction;
import dev.stagefarm.dockerfile.instructions.OnbuildInstruction;
import dev.stagefarm.dockerfile.instructions.RunInstruction;
import dev.stagefarm.dockerfile.instructions.RunMount;
import dev.stagefarm.dockerfile.instructions.Stage;
import dev.stagefarm.dockerfile.shell.ProcessResult;
import dev.stagefarm.dockerfile.shell.ShellExpansionException;
import dev.stagefarm.dockerfile.shell.ShellLex;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Plans a build the way BuildKit's {@code dockerfile2llb} does before it dispatches anything:
 * resolves the global ARGs and every stage's base, finds the edges between stages ({@code FROM
 * <stage>}, {@code COPY --from}, {@code RUN --mount from=}, ONBUILD triggers of a base stage),
 * rejects cycles, resolves the target and marks the stages it does not reach as skipped.
 *
 * <p>Checks BuildKit makes only when it dispatches a stage (a COPY of a URL, copying from a stage
 * defined later) are made only for the stages that run.
 */
public final class StageGraph {

  private static final Pattern GO_INT = Pattern.compile("[+-]?\\d+");

  private final DockerfileModel model;
  private final BuildOptions options;
  private final Integer targetIndex;
  private final ShellLex lexer;
  /**
   * Each name's first stage, lower-cased (stage names match case-insensitively): a wide
   * Dockerfile's references are looked up, not searched for (10,000 stages: no 10^8 comparisons).
   */
  private final Map<String, Stage> firstNamed = new java.util.HashMap<>();
  /** Whether every stage name is ASCII, so that lower-casing matches exactly as {@link Stage#isNamed} does. */
  private final boolean asciiNames;

  private StageGraph(DockerfileModel model, BuildOptions options, Integer targetIndex) {
    this.model = model;
    this.options = options;
    this.targetIndex = targetIndex;
    this.lexer = new ShellLex(model.escapeToken());
    boolean ascii = true;
    for (Stage stage : model.stages()) {
      if (stage.name() != null) {
        firstNamed.putIfAbsent(stage.name().toLowerCase(java.util.Locale.ROOT), stage);
        ascii &= stage.name().chars().allMatch(c -> c < 128);
      }
    }
    this.asciiNames = ascii;
  }

  /**
   * Plans the build of {@code options.target()} (default: the last stage).
   *
   * @throws DockerfileException for an unknown target, a blank base, a bad {@code --from}, a
   *     cycle, or a stage that copies from a stage defined after it
   */
  public static BuildPlan plan(DockerfileModel model, BuildOptions options) {
    return new StageGraph(model, options, null).plan();
  }

  /**
   * Plans the build of the stage at {@code stageIndex} ({@code options.target()} is ignored): what
   * a worker that is handed one stage of a Dockerfile needs, e.g. {@code
   * planStage(model, options, i).target().instructions()} and {@code scopeFor(i, ...)}.
   *
   * @throws DockerfileException as {@link #plan}, or when there is no such stage
   */
  public static BuildPlan planStage(DockerfileModel model, BuildOptions options, int stageIndex) {
    if (stageIndex < 0 || stageIndex >= model.stages().size()) {
      throw new DockerfileException(
          0,
          "stage index " + stageIndex + " out of range: the Dockerfile has "
              + model.stages().size() + " stages");
    }
    return new StageGraph(model, options, stageIndex).plan();
  }

  private BuildPlan plan() {
    List<Stage> stages = model.stages();
    if (stages.isEmpty()) {
      throw new DockerfileException(0, "dockerfile contains no stages to build");
    }
    Map<String, String> globalArgs = globalArgs();
    List<StageBase> bases = new ArrayList<>();
    List<String> platforms = new ArrayList<>();
    for (Stage stage : stages) {
      bases.add(resolveBase(stage, globalArgs, stages));
      platforms.add(resolvePlatform(stage, globalArgs));
    }
    int target = resolveTarget();

    List<List<Dependency>> dependencies = new ArrayList<>();
    List<List<Instruction>> instructions = new ArrayList<>();
    for (Stage stage : stages) {
      List<Dependency> deps = new ArrayList<>();
      if (bases.get(stage.index()) instanceof StageBase.StageRef ref) {
        deps.add(
            Dependency.onStage(
                Kind.BASE, ref.index(), stages.get(ref.index()).displayName(),
                stage.origin().line()));
      }
      for (Instruction instruction : stage.instructions()) {
        deps.addAll(edges(instruction, instruction.line()));
      }
      dependencies.add(deps);
      instructions.add(new ArrayList<>(stage.instructions()));
    }
    checkCycles(dependencies);

    Set<Integer> reachable = reachable(target, dependencies);
    // ONBUILD triggers of a base stage run in the stages built on it and may add edges
    // (BuildKit initialises them for reachable stages until no new edge appears).
    Set<Integer> triggersDone = new HashSet<>();
    boolean changed = true;
    while (changed) {
      changed = false;
      for (int index : List.copyOf(reachable)) {
        if (!triggersDone.add(index)
            || !(bases.get(index) instanceof StageBase.StageRef ref)) {
          continue;
        }
        List<Instruction> triggers = triggers(stages.get(ref.index()), stages.get(index));
        for (Instruction trigger : triggers) {
          List<Dependency> added = edges(trigger, stages.get(index).origin().line());
          dependencies.get(index).addAll(added);
          changed |= !added.isEmpty();
        }
        instructions.get(index).addAll(0, triggers);
      }
      if (changed) {
        checkCycles(dependencies);
        reachable = reachable(target, dependencies);
      }
    }

    List<PlannedStage> planned = new ArrayList<>();
    for (Stage stage : stages) {
      boolean runs = reachable.contains(stage.index());
      if (runs) {
        checkRunnable(stage, instructions.get(stage.index()), dependencies.get(stage.index()));
      }
      planned.add(
          new PlannedStage(
              stage,
              bases.get(stage.index()),
              platforms.get(stage.index()),
              dependencies.get(stage.index()),
              instructions.get(stage.index()),
              runs ? PlannedStage.Status.RUN : PlannedStage.Status.SKIPPED));
    }
    return new BuildPlan(
        target,
        planned,
        globalArgs,
        options.buildArgs(),
        options.effectiveTargetPlatform(),
        options.effectiveBuildPlatform(),
        model.escapeToken());
  }

  /** BuildKit's {@code defaultArgs} + {@code buildMetaArgs}. */
  private Map<String, String> globalArgs() {
    Map<String, String> args = new LinkedHashMap<>();
    Platform build = options.effectiveBuildPlatform();
    Platform target = options.effectiveTargetPlatform();
    predefined(args, "BUILDPLATFORM", build.format());
    predefined(args, "BUILDOS", build.os());
    predefined(args, "BUILDARCH", build.architecture());
    predefined(args, "BUILDVARIANT", build.variant());
    predefined(args, "TARGETPLATFORM", target.format());
    predefined(args, "TARGETOS", target.os());
    predefined(args, "TARGETARCH", target.architecture());
    predefined(args, "TARGETVARIANT", target.variant());
    for (ArgInstruction arg : model.metaArgs()) {
      for (ArgDefinition definition : arg.args()) {
        String value = options.buildArgs().get(definition.key());
        if (value == null && definition.hasDefault()) {
          value = expand(definition.defaultValue(), args, arg.line()).result();
        }
        if (value != null) {
          args.put(definition.key(), value);
        }
      }
    }
    return args;
  }

  private void predefined(Map<String, String> args, String key, String value) {
    args.put(key, options.buildArgs().getOrDefault(key, value));
  }

  private StageBase resolveBase(Stage stage, Map<String, String> globalArgs, List<Stage> stages) {
    String name = expand(stage.baseName(), globalArgs, stage.origin().line()).result();
    if (name.isEmpty()) {
      throw new DockerfileException(
          stage.origin().line(), "base name (" + stage.baseName() + ") should not be blank");
    }
    // Only a stage defined earlier can be a base; a later name is an image reference.
    Optional<Stage> named = stageNamed(name);
    if (named.isPresent() && named.get().index() < stage.index()) {
      return new StageBase.StageRef(named.get().index());
    }
    if (name.equals("scratch")) {
      return new StageBase.Scratch();
    }
    return new StageBase.Image(name);
  }

  private String resolvePlatform(Stage stage, Map<String, String> globalArgs) {
    if (stage.platform() == null) {
      return null;
    }
    String platform = expand(stage.platform(), globalArgs, stage.origin().line()).result();
    if (platform.isEmpty()) {
      throw new DockerfileException(
          stage.origin().line(), "empty platform value from expression " + stage.platform());
    }
    try {
      return Platform.parse(platform).format();
    } catch (IllegalArgumentException e) {
      throw new DockerfileException(
          stage.origin().line(),
          "failed to parse platform " + stage.platform() + ": " + e.getMessage());
    }
  }

  private int resolveTarget() {
    if (targetIndex != null) {
      return targetIndex;
    }
    if (options.target() == null || options.target().isEmpty()) {
      return model.stages().size() - 1;
    }
    return model
        .stageNamed(options.target())
        .map(Stage::index)
        .orElseThrow(
            () ->
                new DockerfileException(
                    0, "target stage \"" + options.target() + "\" could not be found"));
  }

  /** The edges one instruction makes (BuildKit's {@code toCommand} and {@code detectRunMount}). */
  private List<Dependency> edges(Instruction instruction, int line) {
    List<Dependency> edges = new ArrayList<>();
    if (instruction instanceof CopyInstruction copy && copy.hasFrom()) {
      String from = copy.from();
      if (!expand(from, Map.of(), line).result().equals(from)) {
        throw new DockerfileException(
            line,
            "variable expansion is not supported for --from, define a new stage with FROM using"
                + " ARG from global scope as a workaround");
      }
      if (GO_INT.matcher(from).matches()) {
        int index = parseIndex(from, line);
        edges.add(Dependency.onStage(Kind.COPY_FROM, index, from, line));
      } else {
        edges.add(
            stageNamed(from)
                .map(s -> Dependency.onStage(Kind.COPY_FROM, s.index(), from, line))
                .orElseGet(() -> Dependency.onImage(Kind.COPY_FROM, from, line)));
      }
    } else if (instruction instanceof RunInstruction run) {
      for (RunMount mount : run.mounts()) {
        if (mount.from().isEmpty()) {
          continue;
        }
        edges.add(
            stageNamed(mount.from())
                .map(s -> Dependency.onStage(Kind.MOUNT_FROM, s.index(), mount.from(), line))
                .orElseGet(() -> Dependency.onImage(Kind.MOUNT_FROM, mount.from(), line)));
      }
    }
    return edges;
  }

  private int parseIndex(String from, int line) {
    try {
      int index = Integer.parseInt(from);
      if (index >= 0 && index < model.stages().size()) {
        return index;
      }
    } catch (NumberFormatException e) {
      // out of int range: invalid like any other index
    }
    throw new DockerfileException(line, "invalid stage index " + from);
  }

  private Optional<Stage> stageNamed(String name) {
    if (asciiNames) {
      Stage first = firstNamed.get(name.toLowerCase(java.util.Locale.ROOT));
      return first != null && first.isNamed(name) ? Optional.of(first) : Optional.empty();
    }
    return model.stageNamed(name);
  }

  /**
   * BuildKit's {@code validateCircularDependency}: a depth-first walk over the COPY/mount edges
   * (base edges only point backwards) from each stage in order; the first stage whose walk meets
   * a cycle is named.
   */
  private void checkCycles(List<List<Dependency>> dependencies) {
    Set<Integer> visited = new HashSet<>();
    for (Stage stage : model.stages()) {
      Dependency closing = cycleFrom(stage.index(), dependencies, visited, new HashSet<>());
      if (closing != null) {
        throw new DockerfileException(
            closing.line(), "circular dependency detected on stage: " + stage.displayName());
      }
    }
  }

  private Dependency cycleFrom(
      int index, List<List<Dependency>> dependencies, Set<Integer> visited, Set<Integer> path) {
    if (!visited.add(index)) {
      return null;
    }
    path.add(index);
    for (Dependency dep : dependencies.get(index)) {
      if (!dep.isStage() || dep.kind() == Kind.BASE) {
        continue;
      }
      if (path.contains(dep.stageIndex())) {
        return dep;
      }
      Dependency closing = cycleFrom(dep.stageIndex(), dependencies, visited, path);
      if (closing != null) {
        return closing;
      }
    }
    path.remove(index);
    return null;
  }

  private static Set<Integer> reachable(int target, List<List<Dependency>> dependencies) {
    Set<Integer> reached = new HashSet<>();
    List<Integer> todo = new ArrayList<>(List.of(target));
    while (!todo.isEmpty()) {
      int index = todo.remove(todo.size() - 1);
      if (reached.add(index)) {
        for (Dependency dep : dependencies.get(index)) {
          if (dep.isStage()) {
            todo.add(dep.stageIndex());
          }
        }
      }
    }
    return reached;
  }

  private static List<Instruction> triggers(Stage base, Stage stage) {
    List<Instruction> triggers = new ArrayList<>();
    for (Instruction instruction : base.instructions()) {
      if (instruction instanceof OnbuildInstruction onbuild) {
        triggers.add(onbuild.trigger(stage.origin().line()));
      }
    }
    return triggers;
  }

  /** What BuildKit checks when it dispatches a stage. */
  private static void checkRunnable(
      Stage stage, List<Instruction> instructions, List<Dependency> dependencies) {
    for (Instruction instruction : instructions) {
      if (instruction instanceof CopyInstruction copy) {
        copy.checkSources();
      }
    }
    for (Dependency dep : dependencies) {
      if (!dep.isStage() || dep.kind() == Kind.BASE || dep.stageIndex() < stage.index()) {
        continue;
      }
      String problem =
          dep.kind() == Kind.COPY_FROM
              ? "cannot copy from stage \""
                  + dep.reference()
                  + "\", it needs to be defined before current stage \""
                  + stage.displayName()
                  + "\""
              : "cannot mount from stage \""
                  + dep.reference()
                  + "\", it needs to be defined before current stage \""
                  + stage.displayName()
                  + "\"";
      throw new DockerfileException(dep.line(), problem);
    }
  }

  private ProcessResult expand(String word, Map<String, String> env, int line) {
    try {
      return lexer.processWordWithMatches(word, env);
    } catch (ShellExpansionException e) {
      throw new DockerfileException(line, e.getMessage(), e);
    }
  }
}
