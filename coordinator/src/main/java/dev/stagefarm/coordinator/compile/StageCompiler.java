package dev.stagefarm.coordinator.compile;

import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.graph.BuildPlan;
import dev.stagefarm.dockerfile.graph.PlannedStage;
import dev.stagefarm.dockerfile.instructions.AddInstruction;
import dev.stagefarm.dockerfile.instructions.ArgDefinition;
import dev.stagefarm.dockerfile.instructions.ArgInstruction;
import dev.stagefarm.dockerfile.instructions.CmdInstruction;
import dev.stagefarm.dockerfile.instructions.CopyInstruction;
import dev.stagefarm.dockerfile.instructions.Instruction;
import dev.stagefarm.dockerfile.instructions.OnbuildInstruction;
import dev.stagefarm.dockerfile.instructions.RunInstruction;
import dev.stagefarm.dockerfile.instructions.MountType;
import dev.stagefarm.dockerfile.instructions.RunMount;
import dev.stagefarm.dockerfile.instructions.SecurityMode;
import dev.stagefarm.dockerfile.instructions.StageScope;
import dev.stagefarm.dockerfile.instructions.WorkdirInstruction;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.ContainerConfig;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.program.Action;
import dev.stagefarm.program.RunOptions;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.ConfigDelta;
import dev.stagefarm.program.ConfigFold;
import dev.stagefarm.program.Mount;
import dev.stagefarm.program.Op;
import dev.stagefarm.program.OpSource;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.StageProgram;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Compiles one planned stage into a {@link StageProgram}: the only place a Dockerfile is
 * interpreted (DESIGN.md §2.3). Instructions are expanded with the stage's scope in order, as
 * BuildKit's dispatcher does; the config is folded op by op ({@link ConfigFold}) so each op sees
 * the SHELL, WORKDIR, USER and ENV before it. A base image's ONBUILD triggers come first, reported
 * at the FROM line; a base stage's triggers are already at the head of the planned instructions.
 */
public final class StageCompiler {
  private final ContextSelector context;
  private final String buildId;
  private final Platform platform;
  private final Optional<Instant> sourceDateEpoch;
  private final Action.Network buildNetwork;
  private final RunOptions runOptions;
  private final java.util.Map<String, ContextSelector> namedContexts;

  /**
   * @param context the build context the COPY/ADD and bind-mount sources are selected from
   * @param buildId goes into the ops that read what nobody can fingerprint (an ADD of a URL without checksum)
   * @param platform the platform the build targets
   * @param sourceDateEpoch SOURCE_DATE_EPOCH, when the build sets it
   */
  public StageCompiler(ContextSelector context, String buildId, Platform platform, Optional<Instant> sourceDateEpoch) {
    this(context, buildId, platform, sourceDateEpoch, Action.Network.DEFAULT);
  }

  /**
   * @param buildNetwork the network of RUNs without {@code --network} (or with {@code --network=default}):
   *     the build's {@code --network}, as in BuildKit
   */
  public StageCompiler(ContextSelector context, String buildId, Platform platform, Optional<Instant> sourceDateEpoch,
      Action.Network buildNetwork) {
    this(context, buildId, platform, sourceDateEpoch, buildNetwork, RunOptions.NONE);
  }

  /** @param runOptions the build's {@code --add-host}, {@code --shm-size}, {@code --ulimit}: every RUN gets them */
  public StageCompiler(ContextSelector context, String buildId, Platform platform, Optional<Instant> sourceDateEpoch,
      Action.Network buildNetwork, RunOptions runOptions) {
    this(context, buildId, platform, sourceDateEpoch, buildNetwork, runOptions, java.util.Map.of());
  }

  /** @param namedContexts {@code --build-context NAME=DIR}: what {@code COPY --from=NAME} selects from */
  public StageCompiler(ContextSelector context, String buildId, Platform platform, Optional<Instant> sourceDateEpoch,
      Action.Network buildNetwork, RunOptions runOptions, java.util.Map<String, ContextSelector> namedContexts) {
    this.namedContexts = java.util.Map.copyOf(namedContexts);
    this.runOptions = runOptions;
    this.context = context;
    this.buildId = buildId;
    this.platform = platform;
    this.sourceDateEpoch = sourceDateEpoch;
    this.buildNetwork = buildNetwork;
  }

  /** This compiler for a stage with a platform of its own ({@code FROM --platform=…}). */
  public StageCompiler forPlatform(Platform stagePlatform) {
    return stagePlatform.equals(platform) ? this
        : new StageCompiler(context, buildId, stagePlatform, sourceDateEpoch, buildNetwork, runOptions, namedContexts);
  }

  /**
   * Where a stage starts.
   *
   * @param base what the program names as its base
   * @param rootKey the key its op chain starts from
   * @param config the base's image config as it is (a base image's ONBUILD triggers are read from it)
   * @param inheritedArgs for a stage built on another stage, the ARG values that stage ended with
   */
  public record Start(ProgramBase base, CacheKey rootKey, ImageConfig config, Map<String, String> inheritedArgs) {
    public Start {
      inheritedArgs = ordered(inheritedArgs);
    }
  }

  /**
   * A compiled stage and what a stage built on it starts from.
   *
   * @param config the config after the last op (layers and history aside: no layer is known here)
   * @param args the ARG values in scope at the end
   */
  public record Compiled(StageProgram program, ImageConfig config, Map<String, String> args) {
    public Compiled {
      args = ordered(args);
    }
  }

  /**
   * @throws DockerfileException for a user error, at its line (a trigger's at the FROM line)
   */
  public Compiled compile(BuildPlan graph, PlannedStage stage, Start start, InputResolver resolver) {
    return new Compilation(graph, stage, start, new ProgramInputs(resolver)).run();
  }

  /** One stage's compilation: the scope, the folded config and the ops so far. */
  private final class Compilation {
    final PlannedStage stage;
    final Start start;
    final ProgramInputs inputs;
    final CopyCompiler copies;
    final MountCompiler mounts;
    final StageScope scope;
    final List<Op> ops = new ArrayList<>();
    /** The ARGs declared so far, the inherited ones first, as BuildKit's RUN history lists them. */
    final List<ArgDefinition> declaredArgs = new ArrayList<>();
    ImageConfig config;
    boolean cmdSet;

    Compilation(BuildPlan graph, PlannedStage stage, Start start, ProgramInputs inputs) {
      this.stage = stage;
      this.start = start;
      this.inputs = inputs;
      this.copies = new CopyCompiler(context, inputs, buildId, namedContexts);
      this.mounts = new MountCompiler(context, inputs);
      this.config = ConfigFold.start(start.config());
      this.scope = graph.scopeFor(stage.index(), config.config().env(), start.inheritedArgs());
      start.inheritedArgs().forEach((key, value) -> declaredArgs.add(new ArgDefinition(key, value)));
    }

    Compiled run() {
      int fromLine = stage.stage().origin().line();
      if (start.base() instanceof ProgramBase.Image image) {
        for (String trigger : start.config().config().onBuild()) {
          String context = "ONBUILD trigger \"" + trigger + "\" of base image " + image.reference();
          Instruction instruction = atLine(fromLine, context, () -> OnbuildInstruction.parseTrigger(trigger, fromLine));
          atLine(fromLine, context, () -> add(instruction, fromLine));
        }
      }
      // the frontend put a base stage's triggers (parsed, errors at the FROM line) ahead of the stage's own
      int stageTriggers = stage.instructions().size() - stage.stage().instructions().size();
      for (int i = 0; i < stage.instructions().size(); i++) {
        Instruction instruction = stage.instructions().get(i);
        if (i < stageTriggers) {
          String context = "ONBUILD trigger \"" + instruction.original() + "\" of the base stage";
          atLine(fromLine, context, () -> add(instruction, fromLine));
        } else {
          add(instruction, instruction.line());
        }
      }
      StageProgram program = new StageProgram(StageProgram.VERSION, start.base(), inputs.all(), ops, platform,
          start.rootKey(), sourceDateEpoch, stage.displayName());
      return new Compiled(program, config, scope.argValues());
    }

    /** Compiles one instruction into the next op and folds it into the config. */
    private Op add(Instruction instruction, int line) {
      Instruction expanded = scope.apply(instruction);
      OpSource source = new OpSource(line, instruction.original(), instruction.name());
      ContainerConfig current = config.config();
      String cwd = current.workingDir().isEmpty() ? "/" : current.workingDir();
      ConfigDelta delta = ConfigDelta.NONE;
      Optional<Action> action = Optional.empty();
      switch (expanded) {
        case RunInstruction run -> action = Optional.of(exec(run, current, cwd, line));
        case CopyInstruction copy -> action = Optional.of(copies.copy(copy, cwd, line));
        case AddInstruction add -> action = Optional.of(copies.add(add, cwd, line));
        case WorkdirInstruction workdir -> {
          delta = ConfigDeltas.of(workdir, current, cmdSet);
          // BuildKit's WORKDIR makes the directory, owned by the current USER
          action = Optional.of(new Action.Mkdir(delta.workingDir().orElseThrow(), current.user()));
        }
        case ArgInstruction arg -> declaredArgs.addAll(arg.args());
        default -> delta = ConfigDeltas.of(expanded, current, cmdSet);
      }
      String createdBy = HistoryText.of(expanded, delta, action, HistoryText.runArgs(declaredArgs, scope.env()));
      Op op = new Op(source, createdBy, delta, action);
      cmdSet |= expanded instanceof CmdInstruction;
      ops.add(op);
      config = ConfigFold.apply(config, op, Optional.empty(), sourceDateEpoch);
      return op;
    }

    private Action.Exec exec(RunInstruction run, ContainerConfig current, String cwd, int line) {
      ShellForm.Run command = ShellForm.run(run.command(), current.shell());
      // BuildKit adds the shebang heredoc's mount ahead of the RUN's own mounts
      List<Mount> compiled = new ArrayList<>(command.script().stream().toList());
      int ssh = 0;
      for (RunMount mount : run.mounts()) {
        compiled.add(mounts.compile(mount, cwd, line, ssh));
        ssh += mount.type() == MountType.SSH ? 1 : 0;
      }
      Action.Network network = switch (run.network()) {
        case DEFAULT -> buildNetwork;
        case NONE -> Action.Network.NONE;
        case HOST -> Action.Network.HOST;
      };
      return new Action.Exec(command.argv(), scope.envList(), cwd, current.user(),
          network, run.security() == SecurityMode.INSECURE, compiled, runOptions);
    }
  }

  /**
   * An unmodifiable copy that keeps declaration order: ARG values reach a RUN's env and history in
   * the order they were declared, so the order must survive from one stage to the next.
   */
  private static Map<String, String> ordered(Map<String, String> args) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(args));
  }

  /** Runs a step of an ONBUILD trigger, reporting its errors at the FROM line that ran it. */
  private static <T> T atLine(int line, String context, Supplier<T> step) {
    try {
      return step.get();
    } catch (DockerfileException e) {
      throw new DockerfileException(line, context + ": " + e.problem(), e);
    }
  }
}
