package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ContainerPrefixTest {
  @Test
  void workersOfTheSameIdInTwoFarmsOnOneHostGetDifferentContainerIds() {
    // runc names a container's cgroups after its id: "worker-0" of two farms must not share them
    String one = StageExecutors.containerPrefix("worker-0", new StageExecutors.WorkDir(Path.of("/tmp/farm-a/worker-0")));
    String two = StageExecutors.containerPrefix("worker-0", new StageExecutors.WorkDir(Path.of("/tmp/farm-b/worker-0")));
    assertThat(one).startsWith("sf-").isNotEqualTo(two);
    assertThat(StageExecutors.containerPrefix("worker-0", new StageExecutors.WorkDir(Path.of("/tmp/farm-a/worker-0"))))
        .as("stable for a worker's own work dir").isEqualTo(one);
  }
}
