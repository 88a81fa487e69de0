package dev.stagefarm.coordinator.compile;

import dev.stagefarm.dockerfile.instructions.AddInstruction;
import dev.stagefarm.dockerfile.instructions.ArgDefinition;
import dev.stagefarm.dockerfile.instructions.ArgInstruction;
import dev.stagefarm.dockerfile.instructions.CmdInstruction;
import dev.stagefarm.dockerfile.instructions.CopyInstruction;
import dev.stagefarm.dockerfile.instructions.EntrypointInstruction;
import dev.stagefarm.dockerfile.instructions.EnvInstruction;
import dev.stagefarm.dockerfile.instructions.ExposeInstruction;
import dev.stagefarm.dockerfile.instructions.HealthcheckInstruction;
import dev.stagefarm.dockerfile.instructions.Instruction;
import dev.stagefarm.dockerfile.instructions.KeyValue;
import dev.stagefarm.dockerfile.instructions.LabelInstruction;
import dev.stagefarm.dockerfile.instructions.MaintainerInstruction;
import dev.stagefarm.dockerfile.instructions.OnbuildInstruction;
import dev.stagefarm.dockerfile.instructions.RunInstruction;
import dev.stagefarm.dockerfile.instructions.ShellInstruction;
import dev.stagefarm.dockerfile.instructions.SourceContent;
import dev.stagefarm.dockerfile.instructions.SourcesAndDest;
import dev.stagefarm.dockerfile.instructions.StopSignalInstruction;
import dev.stagefarm.dockerfile.instructions.UserInstruction;
import dev.stagefarm.dockerfile.instructions.VolumeInstruction;
import dev.stagefarm.dockerfile.instructions.WorkdirInstruction;
import dev.stagefarm.oci.image.Healthcheck;
import dev.stagefarm.program.Action;
import dev.stagefarm.program.ConfigDelta;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code created_by} text of an op's history entry, as BuildKit's dispatchers pass it to
 * {@code commitToHistory} (without the " # buildkit" that {@code ConfigFold} adds). Texts come
 * from the expanded instruction: ENV and LABEL pairs, COPY's {@code --parents}/{@code --chown}/
 * {@code --chmod} flags, sources and destination as written after expansion; RUN's argv with the
 * stage's ARGs in front ({@code RUN |2 a=1 b=2 /bin/sh -c …}); WORKDIR's resolved path; Go's
 * {@code %q}/{@code %v} renderings for CMD, ENTRYPOINT, EXPOSE, VOLUME, SHELL and HEALTHCHECK.
 * ONBUILD writes none.
 */
final class HistoryText {
  private HistoryText() {}

  /**
   * @param delta the op's config change (WORKDIR's path, CMD/ENTRYPOINT argv, EXPOSE's ports)
   * @param action the op's action (RUN's argv)
   * @param runArgs for RUN: the ARGs declared in the stage (and the stage it is built on), in
   *     declaration order, with the value each has for the command
   * @return {@code ""} for an instruction that writes no history entry
   */
  static String of(Instruction expanded, ConfigDelta delta, Optional<Action> action, Map<String, String> runArgs) {
    return switch (expanded) {
      case RunInstruction run -> "RUN " + runCommand(((Action.Exec) action.orElseThrow()).argv(), runArgs);
      case CopyInstruction copy -> copyText("COPY", copy.parents(), copy.chown(), copy.chmod(), copy.files());
      case AddInstruction add -> copyText("ADD", false, add.chown(), add.chmod(), add.files());
      case WorkdirInstruction workdir -> "WORKDIR " + delta.workingDir().orElseThrow();
      case EnvInstruction env -> pairs("ENV", env.pairs());
      case LabelInstruction label -> pairs("LABEL", label.labels());
      case ArgInstruction arg -> "ARG " + String.join(" ", arg.args().stream().map(HistoryText::arg).toList());
      case CmdInstruction cmd -> "CMD " + GoFormat.quotedList(delta.cmd().orElseThrow());
      case EntrypointInstruction entrypoint -> "ENTRYPOINT " + GoFormat.quotedList(delta.entrypoint().orElseThrow());
      case ExposeInstruction expose -> "EXPOSE " + GoFormat.list(delta.exposedPorts());
      case VolumeInstruction volume -> "VOLUME " + GoFormat.list(volume.volumes());
      case ShellInstruction shell -> "SHELL " + GoFormat.list(shell.shell());
      case UserInstruction user -> "USER " + user.user();
      case StopSignalInstruction stop -> "STOPSIGNAL " + stop.signal();
      case MaintainerInstruction maintainer -> "MAINTAINER " + maintainer.maintainer();
      case HealthcheckInstruction check -> "HEALTHCHECK " + healthcheck(delta.healthcheck().orElseThrow());
      case OnbuildInstruction onbuild -> "";
      default -> throw new IllegalStateException("no history text for " + expanded.getClass().getSimpleName());
    };
  }

  /**
   * The ARG values a RUN's history shows, as BuildKit's runCommandString picks them: each ARG
   * once, in the order first declared; its value in the RUN's environment (an ENV of the same name
   * wins), else the value declared last, else empty.
   *
   * @param declared the stage's ARGs in declaration order, repeats included; a null value for an
   *     ARG without one
   */
  static Map<String, String> runArgs(List<ArgDefinition> declared, Map<String, String> env) {
    Map<String, String> out = new LinkedHashMap<>();
    for (ArgDefinition arg : declared) {
      String value = env.get(arg.key());
      out.put(arg.key(), value != null ? value : arg.defaultIfAny().orElse(""));
    }
    return out;
  }

  /** BuildKit's runCommandString: {@code |N k=v …} in front of the argv when the stage has ARGs. */
  private static String runCommand(List<String> argv, Map<String, String> runArgs) {
    List<String> words = new ArrayList<>();
    if (!runArgs.isEmpty()) {
      words.add("|" + runArgs.size());
      runArgs.forEach((key, value) -> words.add(key + "=" + value));
    }
    words.addAll(argv);
    return String.join(" ", words);
  }

  private static String copyText(String keyword, boolean parents, String chown, String chmod, SourcesAndDest files) {
    StringBuilder text = new StringBuilder(keyword);
    if (parents) {
      text.append(" --parents");
    }
    if (!chown.isEmpty()) {
      text.append(" --chown=").append(chown);
    }
    if (!chmod.isEmpty()) {
      text.append(" --chmod=").append(chmod);
    }
    files.sourcePaths().forEach(source -> text.append(' ').append(source));
    for (SourceContent content : files.sourceContents()) {
      text.append(" <<").append(content.path());
    }
    return text.append(' ').append(files.destPath()).toString();
  }

  private static String pairs(String keyword, List<KeyValue> pairs) {
    StringBuilder text = new StringBuilder(keyword);
    pairs.forEach(pair -> text.append(' ').append(pair.key()).append('=').append(pair.value()));
    return text.toString();
  }

  private static String arg(ArgDefinition arg) {
    return arg.hasDefault() ? arg.key() + "=" + arg.defaultValue() : arg.key();
  }

  /** Go's {@code %+v} of BuildKit's HealthcheckConfig. */
  private static String healthcheck(Healthcheck check) {
    return "{Test:" + GoFormat.list(check.test())
        + " Interval:" + GoFormat.duration(check.interval())
        + " Timeout:" + GoFormat.duration(check.timeout())
        + " StartPeriod:" + GoFormat.duration(check.startPeriod())
        + " StartInterval:" + GoFormat.duration(check.startInterval())
        + " Retries:" + check.retries() + "}";
  }
}
