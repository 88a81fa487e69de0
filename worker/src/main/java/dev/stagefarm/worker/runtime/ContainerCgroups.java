package dev.stagefarm.worker.runtime;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Where runc put a kept container's cgroups, by controller ({@code ""}: the unified v2 hierarchy), for its limit
 * counters ({@link LimitEvents}). runc records them in the container's state.json, beside the whole runtime config
 * (the seccomp profile, the mounts): reading that into a tree with a new ObjectMapper per RUN was the largest piece of
 * a JIT-cold worker's own work per RUN (bench/README.md, "Session 12 (issue 12): the cold one-shot's run path"). So:
 * <ul>
 *   <li>state.json is streamed for its {@code cgroup_paths} alone, with one parser factory for the process;
 *   <li>runc names the cgroups of a bundle without cgroupsPath (ours) after the container id, in the same parent
 *       directories for every container this process runs: the parents are learnt from a state.json, and a later
 *       container's directories are those parents and its id, used when each is a directory; otherwise (another
 *       cgroup driver, a naming runc changed) its state.json is read again.
 * </ul>
 */
final class ContainerCgroups {
  /** The controllers {@link LimitEvents} reads. */
  private static final Set<String> READ = Set.of("", "memory", "pids");
  private static final JsonFactory JSON = new JsonFactory();

  /** Controller → the parent of a container's cgroup, learnt from the last state.json read; empty until then. */
  private volatile Map<String, Path> parents = Map.of();

  /**
   * The container's cgroup directories of the controllers {@link LimitEvents} reads; empty when it has none (runc
   * failed before it created the container).
   *
   * @param id the container's id (ours: a host-unique name, no slash)
   */
  Map<String, Path> of(Path stateRoot, String id) {
    Map<String, Path> learnt = parents;
    if (!learnt.isEmpty()) {
      Map<String, Path> derived = new HashMap<>();
      learnt.forEach((controller, parent) -> derived.put(controller, parent.resolve(id)));
      if (derived.values().stream().allMatch(dir -> Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS))) {
        return derived;
      }
    }
    Map<String, Path> read = read(stateRoot.resolve(id).resolve("state.json"));
    Map<String, Path> named = new HashMap<>();
    for (Map.Entry<String, Path> e : read.entrySet()) {
      Path dir = e.getValue();
      if (dir.getFileName() == null || !dir.getFileName().toString().equals(id) || dir.getParent() == null) {
        return read; // not named after the id: nothing to learn, every container's state.json is read
      }
      named.put(e.getKey(), dir.getParent());
    }
    if (!named.isEmpty()) {
      parents = Map.copyOf(named);
    }
    return read;
  }

  /** {@code cgroup_paths} of a state.json, the controllers we read; empty when there is none or no file. */
  static Map<String, Path> read(Path stateJson) {
    Map<String, Path> paths = new HashMap<>();
    try (JsonParser parser = JSON.createParser(stateJson.toFile())) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return Map.of();
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        if (!field.equals("cgroup_paths") || value != JsonToken.START_OBJECT) {
          parser.skipChildren();
          continue;
        }
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String controller = parser.currentName();
          if (parser.nextToken() == JsonToken.VALUE_STRING && READ.contains(controller)) {
            paths.put(controller, Path.of(parser.getText()));
          } else {
            parser.skipChildren();
          }
        }
        return paths;
      }
    } catch (IOException | RuntimeException e) {
      // runc failed before it created the container (no state.json), or wrote something else: no counters to read
    }
    return paths;
  }
}
