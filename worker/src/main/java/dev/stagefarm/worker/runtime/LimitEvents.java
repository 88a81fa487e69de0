package dev.stagefarm.worker.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Which cgroup limits a finished container ran into, read from its cgroups before they are
 * removed: cgroup v1 {@code memory.oom_control} ({@code oom_kill}) and {@code pids.events}
 * ({@code max}), or their cgroup v2 counterparts {@code memory.events} and {@code pids.events}.
 *
 * @param oomKills processes the kernel killed for exceeding the memory limit
 * @param pidsRefused forks refused because the pids limit was reached
 */
public record LimitEvents(long oomKills, long pidsRefused) {

  public static LimitEvents none() {
    return new LimitEvents(0, 0);
  }

  /**
   * @param cgroupPaths controller name → cgroup directory, as runc records them in state.json
   *     ({@code ""} is the unified v2 hierarchy)
   */
  static LimitEvents read(Map<String, Path> cgroupPaths) {
    long oom = 0;
    long pids = 0;
    Path memory = cgroupPaths.get("memory");
    Path pidsDir = cgroupPaths.get("pids");
    Path unified = cgroupPaths.get("");
    if (memory != null) {
      oom = counter(memory.resolve("memory.oom_control"), "oom_kill").orElse(0L);
    } else if (unified != null) {
      oom = counter(unified.resolve("memory.events"), "oom_kill").orElse(0L);
    }
    if (pidsDir != null) {
      pids = counter(pidsDir.resolve("pids.events"), "max").orElse(0L);
    } else if (unified != null) {
      pids = counter(unified.resolve("pids.events"), "max").orElse(0L);
    }
    return new LimitEvents(oom, pids);
  }

  /** A {@code name value} line of a flat-keyed cgroup file; empty when the file or line is absent. */
  private static Optional<Long> counter(Path file, String name) {
    try {
      for (String line : Files.readAllLines(file)) {
        String[] parts = line.strip().split("\\s+");
        if (parts.length == 2 && parts[0].equals(name)) {
          return Optional.of(Long.parseLong(parts[1]));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // controller not mounted or not enabled for this container: nothing to report
    }
    return Optional.empty();
  }
}
