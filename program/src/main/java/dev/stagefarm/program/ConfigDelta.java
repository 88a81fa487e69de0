package dev.stagefarm.program;

import dev.stagefarm.oci.image.Healthcheck;
import java.util.List;
import java.util.Optional;

/**
 * A change to an image config; empty fields leave the config as it is. {@link ConfigFold} applies it.
 *
 * @param env variables set, in order (ENV)
 * @param labels labels set, in order
 * @param workingDir absolute and clean
 * @param exposedPorts {@code 80/tcp}, one entry per port of a range
 * @param resetCmd ENTRYPOINT in a stage that set no CMD clears the inherited CMD
 * @param onBuild triggers appended (ONBUILD)
 * @param author MAINTAINER
 */
public record ConfigDelta(
    List<KeyValue> env,
    List<KeyValue> labels,
    Optional<String> user,
    Optional<String> workingDir,
    List<String> exposedPorts,
    List<String> volumes,
    Optional<List<String>> cmd,
    Optional<List<String>> entrypoint,
    boolean resetCmd,
    Optional<List<String>> shell,
    Optional<String> stopSignal,
    Optional<Healthcheck> healthcheck,
    List<String> onBuild,
    Optional<String> author) {

  public static final ConfigDelta NONE = new ConfigDelta(List.of(), List.of(), Optional.empty(), Optional.empty(),
      List.of(), List.of(), Optional.empty(), Optional.empty(), false, Optional.empty(), Optional.empty(),
      Optional.empty(), List.of(), Optional.empty());

  public ConfigDelta {
    env = List.copyOf(env);
    labels = List.copyOf(labels);
    exposedPorts = List.copyOf(exposedPorts);
    volumes = List.copyOf(volumes);
    cmd = cmd.map(List::copyOf);
    entrypoint = entrypoint.map(List::copyOf);
    shell = shell.map(List::copyOf);
    onBuild = List.copyOf(onBuild);
  }

  /** A name and a value, in declaration order. */
  public record KeyValue(String key, String value) {}

  public boolean isEmpty() {
    return equals(NONE);
  }

  public ConfigDelta withEnv(List<KeyValue> newEnv) {
    return new ConfigDelta(newEnv, labels, user, workingDir, exposedPorts, volumes, cmd, entrypoint, resetCmd, shell,
        stopSignal, healthcheck, onBuild, author);
  }

  public ConfigDelta withLabels(List<KeyValue> newLabels) {
    return new ConfigDelta(env, newLabels, user, workingDir, exposedPorts, volumes, cmd, entrypoint, resetCmd, shell,
        stopSignal, healthcheck, onBuild, author);
  }

  public ConfigDelta withUser(String newUser) {
    return new ConfigDelta(env, labels, Optional.of(newUser), workingDir, exposedPorts, volumes, cmd, entrypoint,
        resetCmd, shell, stopSignal, healthcheck, onBuild, author);
  }

  public ConfigDelta withWorkingDir(String dir) {
    return new ConfigDelta(env, labels, user, Optional.of(dir), exposedPorts, volumes, cmd, entrypoint, resetCmd,
        shell, stopSignal, healthcheck, onBuild, author);
  }

  public ConfigDelta withExposedPorts(List<String> ports) {
    return new ConfigDelta(env, labels, user, workingDir, ports, volumes, cmd, entrypoint, resetCmd, shell,
        stopSignal, healthcheck, onBuild, author);
  }

  public ConfigDelta withVolumes(List<String> newVolumes) {
    return new ConfigDelta(env, labels, user, workingDir, exposedPorts, newVolumes, cmd, entrypoint, resetCmd, shell,
        stopSignal, healthcheck, onBuild, author);
  }

  public ConfigDelta withCmd(List<String> newCmd) {
    return new ConfigDelta(env, labels, user, workingDir, exposedPorts, volumes, Optional.of(newCmd), entrypoint,
        resetCmd, shell, stopSignal, healthcheck, onBuild, author);
  }

  /** @param reset whether the inherited CMD is cleared (the stage set none before) */
  public ConfigDelta withEntrypoint(List<String> newEntrypoint, boolean reset) {
    return new ConfigDelta(env, labels, user, workingDir, exposedPorts, volumes, cmd, Optional.of(newEntrypoint),
        reset, shell, stopSignal, healthcheck, onBuild, author);
  }

  public ConfigDelta withShell(List<String> newShell) {
    return new ConfigDelta(env, labels, user, workingDir, exposedPorts, volumes, cmd, entrypoint, resetCmd,
        Optional.of(newShell), stopSignal, healthcheck, onBuild, author);
  }

  public ConfigDelta withStopSignal(String signal) {
    return new ConfigDelta(env, labels, user, workingDir, exposedPorts, volumes, cmd, entrypoint, resetCmd, shell,
        Optional.of(signal), healthcheck, onBuild, author);
  }

  public ConfigDelta withHealthcheck(Healthcheck check) {
    return new ConfigDelta(env, labels, user, workingDir, exposedPorts, volumes, cmd, entrypoint, resetCmd, shell,
        stopSignal, Optional.of(check), onBuild, author);
  }

  public ConfigDelta withOnBuild(List<String> triggers) {
    return new ConfigDelta(env, labels, user, workingDir, exposedPorts, volumes, cmd, entrypoint, resetCmd, shell,
        stopSignal, healthcheck, triggers, author);
  }

  public ConfigDelta withAuthor(String newAuthor) {
    return new ConfigDelta(env, labels, user, workingDir, exposedPorts, volumes, cmd, entrypoint, resetCmd, shell,
        stopSignal, healthcheck, onBuild, Optional.of(newAuthor));
  }
}
