package dev.stagefarm.worker.exec;

import dev.stagefarm.dockerfile.instructions.ArgInstruction;
import dev.stagefarm.dockerfile.instructions.CmdInstruction;
import dev.stagefarm.dockerfile.instructions.CommandLine;
import dev.stagefarm.dockerfile.instructions.EntrypointInstruction;
import dev.stagefarm.dockerfile.instructions.EnvInstruction;
import dev.stagefarm.dockerfile.instructions.ExposeInstruction;
import dev.stagefarm.dockerfile.instructions.HealthcheckInstruction;
import dev.stagefarm.dockerfile.instructions.Instruction;
import dev.stagefarm.dockerfile.instructions.KeyValue;
import dev.stagefarm.dockerfile.instructions.LabelInstruction;
import dev.stagefarm.dockerfile.instructions.MaintainerInstruction;
import dev.stagefarm.dockerfile.instructions.OnbuildInstruction;
import dev.stagefarm.dockerfile.instructions.ShellInstruction;
import dev.stagefarm.dockerfile.instructions.StopSignalInstruction;
import dev.stagefarm.dockerfile.instructions.UserInstruction;
import dev.stagefarm.dockerfile.instructions.VolumeInstruction;
import dev.stagefarm.dockerfile.instructions.WorkdirInstruction;
import dev.stagefarm.oci.image.ContainerConfig;
import dev.stagefarm.oci.image.Healthcheck;
import dev.stagefarm.oci.image.ImageConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The image-config effect of the metadata instructions, as BuildKit's dispatcher applies them
 * (dispatchEnv, dispatchCmd, dispatchEntrypoint, …). One instance per stage: it remembers whether
 * the stage set CMD, because ENTRYPOINT resets an <em>inherited</em> CMD only.
 */
final class ConfigUpdates {
  private static final List<String> DEFAULT_SHELL = List.of("/bin/sh", "-c");
  private boolean cmdSet;

  /** Whether {@code instruction} only changes the config (no layer). */
  static boolean isMetadata(Instruction instruction) {
    return !(instruction instanceof dev.stagefarm.dockerfile.instructions.RunInstruction
        || instruction instanceof dev.stagefarm.dockerfile.instructions.CopyInstruction
        || instruction instanceof dev.stagefarm.dockerfile.instructions.AddInstruction);
  }

  /** Applies an expanded metadata instruction. */
  ImageConfig apply(ImageConfig image, Instruction instruction) {
    ContainerConfig c = image.config();
    ContainerConfig next = switch (instruction) {
      case EnvInstruction env -> {
        ContainerConfig updated = c;
        for (KeyValue pair : env.pairs()) {
          updated = updated.withEnv(pair.key(), pair.value());
        }
        yield updated;
      }
      case LabelInstruction label -> {
        ContainerConfig updated = c;
        for (KeyValue pair : label.labels()) {
          updated = updated.withLabel(pair.key(), pair.value());
        }
        yield updated;
      }
      case WorkdirInstruction workdir -> c.withWorkingDir(workdir(c.workingDir(), workdir.path()));
      case UserInstruction user -> c.withUser(user.user());
      case ExposeInstruction expose -> {
        ContainerConfig updated = c;
        for (String port : expose.ports()) {
          updated = updated.withExposedPort(port);
        }
        yield updated;
      }
      case VolumeInstruction volume -> {
        ContainerConfig updated = c;
        for (String v : volume.volumes()) {
          updated = updated.withVolume(v);
        }
        yield updated;
      }
      case CmdInstruction cmd -> {
        cmdSet = true;
        yield c.withCmd(Optional.of(commandArgs(cmd.command(), c.shell())));
      }
      case EntrypointInstruction entrypoint -> {
        ContainerConfig updated = c.withEntrypoint(Optional.of(commandArgs(entrypoint.command(), c.shell())));
        yield cmdSet ? updated : updated.withCmd(Optional.empty());
      }
      case ShellInstruction shell -> c.withShell(shell.shell());
      case StopSignalInstruction stop -> c.withStopSignal(stop.signal());
      case HealthcheckInstruction hc -> c.withHealthcheck(Optional.of(hc.isNone() ? Healthcheck.none()
          : new Healthcheck(hc.test(), hc.interval(), hc.timeout(), hc.startPeriod(), hc.startInterval(), hc.retries())));
      case OnbuildInstruction onbuild -> c.withOnBuildTrigger(onbuild.expression());
      case MaintainerInstruction m -> c;
      case ArgInstruction arg -> c;
      default -> throw new IllegalArgumentException("not a metadata instruction: " + instruction.name());
    };
    ImageConfig updated = image.withConfig(next);
    if (instruction instanceof MaintainerInstruction m) {
      updated = updated.withAuthor(m.maintainer());
    }
    return updated;
  }

  /** Shell form runs through the current SHELL; exec form is taken as is. */
  private static List<String> commandArgs(CommandLine command, List<String> shell) {
    if (!command.prependShell()) {
      return command.args();
    }
    List<String> args = new ArrayList<>(shell.isEmpty() ? DEFAULT_SHELL : shell);
    args.addAll(command.args());
    return args;
  }

  /** A relative WORKDIR is relative to the previous one (BuildKit: path.Join(cwd, dir)). */
  static String workdir(String current, String path) {
    if (path.startsWith("/")) {
      return Path.of(path).normalize().toString();
    }
    return Path.of(current.isEmpty() ? "/" : current).resolve(path).normalize().toString();
  }
}
