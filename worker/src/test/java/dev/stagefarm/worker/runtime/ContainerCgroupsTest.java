package dev.stagefarm.worker.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** runc's state.json as runc writes it (the config first, then cgroup_paths), in a temporary state root. */
class ContainerCgroupsTest {
  @TempDir
  Path dir;

  private Path stateRoot() {
    return dir.resolve("runc");
  }

  /** A container's state.json naming {@code cgroups} (controller → dir), after a config as large as a real one. */
  private void state(String id, Map<String, Path> cgroups) throws Exception {
    StringBuilder paths = new StringBuilder();
    cgroups.forEach((controller, path) -> paths.append(paths.isEmpty() ? "" : ",")
        .append('"').append(controller).append("\":\"").append(path).append('"'));
    String config = "{\"ociVersion\":\"1.0.2\",\"mounts\":[" + "{\"destination\":\"/proc\",\"options\":[\"a\",\"b\"]},".repeat(200)
        + "{}],\"cgroup_paths\":{\"not\":\"this one\"}}";
    Files.createDirectories(stateRoot().resolve(id));
    Files.writeString(stateRoot().resolve(id).resolve("state.json"), "{\"id\":\"" + id + "\",\"config\":" + config
        + ",\"cgroup_paths\":{" + paths + "},\"namespace_paths\":{\"NEWPID\":\"/proc/1/ns/pid\"}}");
  }

  private Path cgroup(String... names) throws Exception {
    return Files.createDirectories(dir.resolve(Path.of("sys", names)));
  }

  @Test
  void readsTheControllersTheLimitsNeedFromStateJson() throws Exception {
    Path memory = cgroup("memory", "sf-1");
    state("sf-1", Map.of("memory", memory, "pids", dir.resolve("sys/pids/sf-1"), "cpu", dir.resolve("sys/cpu/sf-1")));

    assertThat(new ContainerCgroups().of(stateRoot(), "sf-1"))
        .isEqualTo(Map.of("memory", memory, "pids", dir.resolve("sys/pids/sf-1")));
  }

  @Test
  void laterContainersAreTheLearntParentsAndTheirIdWithoutReadingStateJson() throws Exception {
    ContainerCgroups cgroups = new ContainerCgroups();
    state("sf-1", Map.of("", cgroup("unified", "sf-1")));
    assertThat(cgroups.of(stateRoot(), "sf-1")).isEqualTo(Map.of("", dir.resolve("sys/unified/sf-1")));

    Path second = cgroup("unified", "sf-2"); // no state.json: derived
    assertThat(cgroups.of(stateRoot(), "sf-2")).isEqualTo(Map.of("", second));
  }

  @Test
  void aDerivedDirectoryThatIsNotThereSendsItBackToStateJson() throws Exception {
    ContainerCgroups cgroups = new ContainerCgroups();
    state("sf-1", Map.of("", cgroup("unified", "sf-1")));
    cgroups.of(stateRoot(), "sf-1");

    Path elsewhere = cgroup("other", "sf-2"); // runc put this one elsewhere
    state("sf-2", Map.of("", elsewhere));
    assertThat(cgroups.of(stateRoot(), "sf-2")).isEqualTo(Map.of("", elsewhere));
    // and learnt the new parent
    Path third = cgroup("other", "sf-3");
    assertThat(cgroups.of(stateRoot(), "sf-3")).isEqualTo(Map.of("", third));
  }

  @Test
  void cgroupsNotNamedAfterTheIdAreReadForEveryContainer() throws Exception {
    ContainerCgroups cgroups = new ContainerCgroups();
    state("sf-1", Map.of("", cgroup("unified", "runc-sf-1.scope")));
    cgroups.of(stateRoot(), "sf-1");
    cgroup("unified", "sf-2");

    assertThat(cgroups.of(stateRoot(), "sf-2")).isEmpty(); // nothing learnt, and sf-2 has no state.json
  }

  @Test
  void noStateJsonOrAnotherDocumentIsNoCgroups() throws Exception {
    assertThat(new ContainerCgroups().of(stateRoot(), "never-created")).isEmpty();
    Files.createDirectories(stateRoot().resolve("odd"));
    Files.writeString(stateRoot().resolve("odd").resolve("state.json"), "[1, 2, {\"cgroup_paths\": 3}]");
    assertThat(new ContainerCgroups().of(stateRoot(), "odd")).isEmpty();
    Files.writeString(stateRoot().resolve("odd").resolve("state.json"), "{\"cgroup_paths\": {\"\": 7}, \"x\": [");
    assertThat(new ContainerCgroups().of(stateRoot(), "odd")).isEmpty();
  }
}
