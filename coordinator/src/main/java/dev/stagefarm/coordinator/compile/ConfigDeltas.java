package dev.stagefarm.coordinator.compile;

import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.instructions.CmdInstruction;
import dev.stagefarm.dockerfile.instructions.EntrypointInstruction;
import dev.stagefarm.dockerfile.instructions.EnvInstruction;
import dev.stagefarm.dockerfile.instructions.ExposeInstruction;
import dev.stagefarm.dockerfile.instructions.HealthcheckInstruction;
import dev.stagefarm.dockerfile.instructions.Instruction;
import dev.stagefarm.dockerfile.instructions.KeyValue;
import dev.stagefarm.dockerfile.instructions.LabelInstruction;
import dev.stagefarm.dockerfile.instructions.MaintainerInstruction;
import dev.stagefarm.dockerfile.instructions.OnbuildInstruction;
import dev.stagefarm.dockerfile.instructions.PosixPaths;
import dev.stagefarm.dockerfile.instructions.ShellInstruction;
import dev.stagefarm.dockerfile.instructions.StopSignalInstruction;
import dev.stagefarm.dockerfile.instructions.UserInstruction;
import dev.stagefarm.dockerfile.instructions.VolumeInstruction;
import dev.stagefarm.dockerfile.instructions.WorkdirInstruction;
import dev.stagefarm.oci.image.ContainerConfig;
import dev.stagefarm.oci.image.Healthcheck;
import dev.stagefarm.program.ConfigDelta;
import java.util.List;

/** The config change of an expanded instruction, as BuildKit's dispatchEnv, dispatchCmd, … make it. */
final class ConfigDeltas {
  private ConfigDeltas() {}

  /**
   * @param current the config before the instruction (SHELL for CMD/ENTRYPOINT, WORKDIR for a relative one)
   * @param cmdSetInStage whether the stage set CMD before: ENTRYPOINT clears an inherited CMD only
   */
  static ConfigDelta of(Instruction expanded, ContainerConfig current, boolean cmdSetInStage) {
    ConfigDelta none = ConfigDelta.NONE;
    return switch (expanded) {
      case EnvInstruction env -> none.withEnv(pairs(env.pairs()));
      case LabelInstruction label -> none.withLabels(pairs(label.labels()));
      case UserInstruction user -> none.withUser(user.user());
      case WorkdirInstruction workdir -> none.withWorkingDir(workingDir(current, workdir));
      case ExposeInstruction expose -> none.withExposedPorts(ports(expose));
      case VolumeInstruction volume -> none.withVolumes(volume.volumes());
      case CmdInstruction cmd -> none.withCmd(ShellForm.command(cmd.command(), current.shell()));
      case EntrypointInstruction entrypoint ->
          none.withEntrypoint(ShellForm.command(entrypoint.command(), current.shell()), !cmdSetInStage);
      case ShellInstruction shell -> none.withShell(shell.shell());
      case StopSignalInstruction stop -> none.withStopSignal(stop.signal());
      case HealthcheckInstruction check -> none.withHealthcheck(check.isNone() ? Healthcheck.none()
          : new Healthcheck(check.test(), check.interval(), check.timeout(), check.startPeriod(), check.startInterval(),
              check.retries()));
      case OnbuildInstruction onbuild -> none.withOnBuild(List.of(onbuild.expression()));
      case MaintainerInstruction maintainer -> none.withAuthor(maintainer.maintainer());
      default -> none; // ARG changes only the scope; RUN, COPY and ADD only the filesystem
    };
  }

  private static List<ConfigDelta.KeyValue> pairs(List<KeyValue> pairs) {
    return pairs.stream().map(p -> new ConfigDelta.KeyValue(p.key(), p.value())).toList();
  }

  /** BuildKit's NormalizeWorkdir: relative to the current one, clean. */
  private static String workingDir(ContainerConfig current, WorkdirInstruction workdir) {
    try {
      return PosixPaths.resolveWorkdir(current.workingDir(), workdir.path());
    } catch (IllegalArgumentException e) {
      throw new DockerfileException(workdir.line(), "normalizing workdir: " + e.getMessage(), e);
    }
  }

  private static List<String> ports(ExposeInstruction expose) {
    try {
      return ExposedPorts.normalize(expose.ports());
    } catch (IllegalArgumentException e) {
      throw new DockerfileException(expose.line(), e.getMessage(), e);
    }
  }
}
