package dev.stagefarm.oci.image;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The runtime part of an image config (the JSON {@code config} object), with Docker's extensions. Immutable: a
 * builder applies one Dockerfile instruction by calling one wither, e.g. {@code c.withEnv("PATH", "/bin")}.
 *
 * <p>{@code entrypoint} and {@code cmd} are {@link Optional} because "unset" and "set to []" differ: an unset CMD
 * is inherited, {@code CMD []} is not. Empty collections and empty strings mean absent everywhere else.
 */
public record ContainerConfig(String user, SortedSet<String> exposedPorts, List<String> env,
                              Optional<List<String>> entrypoint, Optional<List<String>> cmd,
                              SortedSet<String> volumes, String workingDir, SortedMap<String, String> labels,
                              String stopSignal, boolean argsEscaped, Optional<Healthcheck> healthcheck,
                              List<String> onBuild, List<String> shell) {

    public static final ContainerConfig EMPTY = new ContainerConfig(null, null, null, null, null, null, null, null,
            null, false, null, null, null);

    public ContainerConfig {
        user = user == null ? "" : user;
        exposedPorts = Collections.unmodifiableSortedSet(exposedPorts == null ? new TreeSet<>() : new TreeSet<>(exposedPorts));
        env = env == null ? List.of() : List.copyOf(env);
        entrypoint = entrypoint == null ? Optional.empty() : entrypoint.map(List::copyOf);
        cmd = cmd == null ? Optional.empty() : cmd.map(List::copyOf);
        volumes = Collections.unmodifiableSortedSet(volumes == null ? new TreeSet<>() : new TreeSet<>(volumes));
        workingDir = workingDir == null ? "" : workingDir;
        labels = Collections.unmodifiableSortedMap(labels == null ? new TreeMap<>() : new TreeMap<>(labels));
        stopSignal = stopSignal == null ? "" : stopSignal;
        healthcheck = healthcheck == null ? Optional.empty() : healthcheck;
        onBuild = onBuild == null ? List.of() : List.copyOf(onBuild);
        shell = shell == null ? List.of() : List.copyOf(shell);
    }

    /** The value of an environment variable, if set. */
    public Optional<String> envValue(String name) {
        String prefix = name + "=";
        return env.stream().filter(e -> e.startsWith(prefix)).map(e -> e.substring(prefix.length())).findFirst();
    }

    /** The environment as an ordered map (first definition of a name wins, as in Docker). */
    public Map<String, String> envMap() {
        Map<String, String> map = new java.util.LinkedHashMap<>();
        for (String e : env) {
            int eq = e.indexOf('=');
            String key = eq < 0 ? e : e.substring(0, eq);
            map.putIfAbsent(key, eq < 0 ? "" : e.substring(eq + 1));
        }
        return map;
    }

    /** Sets (or replaces in place) one environment variable, keeping the others' order — Docker's ENV. */
    public ContainerConfig withEnv(String name, String value) {
        if (name.isEmpty() || name.contains("=")) {
            throw new IllegalArgumentException("invalid environment variable name '" + name + "'");
        }
        List<String> next = new ArrayList<>(env.size() + 1);
        boolean replaced = false;
        for (String e : env) {
            if (e.equals(name) || e.startsWith(name + "=")) {
                if (!replaced) {
                    next.add(name + "=" + value);
                    replaced = true;
                }
            } else {
                next.add(e);
            }
        }
        if (!replaced) {
            next.add(name + "=" + value);
        }
        return withEnvList(next);
    }

    public ContainerConfig withEnvList(List<String> newEnv) {
        return new ContainerConfig(user, exposedPorts, newEnv, entrypoint, cmd, volumes, workingDir, labels,
                stopSignal, argsEscaped, healthcheck, onBuild, shell);
    }

    public ContainerConfig withUser(String newUser) {
        return new ContainerConfig(newUser, exposedPorts, env, entrypoint, cmd, volumes, workingDir, labels,
                stopSignal, argsEscaped, healthcheck, onBuild, shell);
    }

    /** Adds a port like {@code 80/tcp}; a bare number gets {@code /tcp} as Docker does. */
    public ContainerConfig withExposedPort(String port) {
        SortedSet<String> next = new TreeSet<>(exposedPorts);
        next.add(port.contains("/") ? port : port + "/tcp");
        return new ContainerConfig(user, next, env, entrypoint, cmd, volumes, workingDir, labels, stopSignal,
                argsEscaped, healthcheck, onBuild, shell);
    }

    public ContainerConfig withEntrypoint(Optional<List<String>> newEntrypoint) {
        return new ContainerConfig(user, exposedPorts, env, newEntrypoint, cmd, volumes, workingDir, labels,
                stopSignal, argsEscaped, healthcheck, onBuild, shell);
    }

    public ContainerConfig withCmd(Optional<List<String>> newCmd) {
        return new ContainerConfig(user, exposedPorts, env, entrypoint, newCmd, volumes, workingDir, labels,
                stopSignal, argsEscaped, healthcheck, onBuild, shell);
    }

    public ContainerConfig withVolume(String volume) {
        SortedSet<String> next = new TreeSet<>(volumes);
        next.add(volume);
        return new ContainerConfig(user, exposedPorts, env, entrypoint, cmd, next, workingDir, labels, stopSignal,
                argsEscaped, healthcheck, onBuild, shell);
    }

    public ContainerConfig withWorkingDir(String newWorkingDir) {
        return new ContainerConfig(user, exposedPorts, env, entrypoint, cmd, volumes, newWorkingDir, labels,
                stopSignal, argsEscaped, healthcheck, onBuild, shell);
    }

    public ContainerConfig withLabel(String key, String value) {
        SortedMap<String, String> next = new TreeMap<>(labels);
        next.put(key, value);
        return withLabels(next);
    }

    public ContainerConfig withLabels(Map<String, String> newLabels) {
        return new ContainerConfig(user, exposedPorts, env, entrypoint, cmd, volumes, workingDir,
                new TreeMap<>(newLabels), stopSignal, argsEscaped, healthcheck, onBuild, shell);
    }

    public ContainerConfig withStopSignal(String newStopSignal) {
        return new ContainerConfig(user, exposedPorts, env, entrypoint, cmd, volumes, workingDir, labels,
                newStopSignal, argsEscaped, healthcheck, onBuild, shell);
    }

    public ContainerConfig withArgsEscaped(boolean newArgsEscaped) {
        return new ContainerConfig(user, exposedPorts, env, entrypoint, cmd, volumes, workingDir, labels,
                stopSignal, newArgsEscaped, healthcheck, onBuild, shell);
    }

    public ContainerConfig withHealthcheck(Optional<Healthcheck> newHealthcheck) {
        return new ContainerConfig(user, exposedPorts, env, entrypoint, cmd, volumes, workingDir, labels,
                stopSignal, argsEscaped, newHealthcheck, onBuild, shell);
    }

    /** Appends one ONBUILD trigger. */
    public ContainerConfig withOnBuildTrigger(String trigger) {
        List<String> next = new ArrayList<>(onBuild);
        next.add(trigger);
        return withOnBuild(next);
    }

    public ContainerConfig withOnBuild(List<String> newOnBuild) {
        return new ContainerConfig(user, exposedPorts, env, entrypoint, cmd, volumes, workingDir, labels,
                stopSignal, argsEscaped, healthcheck, newOnBuild, shell);
    }

    public ContainerConfig withShell(List<String> newShell) {
        return new ContainerConfig(user, exposedPorts, env, entrypoint, cmd, volumes, workingDir, labels,
                stopSignal, argsEscaped, healthcheck, onBuild, newShell);
    }
}
