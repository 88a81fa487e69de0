package dev.stagefarm.worker.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxNetworkTest {
  @TempDir Path dir;

  /**
   * A Docker engine makes its data root a shared mount and mounts each container's root below it. slirp4netns's
   * sandbox made only "/" private in its namespace and then lazily unmounted its old root, which unmounted by
   * propagation every such leaf mount on the host: a container starting then found an empty root (issue 11).
   */
  @Test
  void aRunsNetworkLeavesTheHostsMountsUnderASharedMountAlone() throws Exception {
    assumeTrue(SandboxNetwork.available("slirp4netns"), "slirp4netns not installed");
    Path shared = Files.createDirectories(dir.resolve("shared"));
    Path leaf = shared.resolve("leaf");
    HostProcess.run(List.of("mount", "-t", "tmpfs", "-o", "size=1m", "shared", shared.toString()), null);
    try {
      HostProcess.run(List.of("mount", "--make-shared", shared.toString()), null);
      Mounts.tmpfs(leaf, "size=1m");
      Files.writeString(leaf.resolve("file"), "still here");

      try (SandboxNetwork.Namespace ns = new SandboxNetwork("slirp4netns").create(dir.resolve("run/netns"))) {
        assertThat(ns.path()).exists();
        assertThat(Mounts.mountPointsUnder(shared)).as("the mount below the shared mount, with slirp4netns up")
            .containsExactly(leaf);
        assertThat(leaf.resolve("file")).hasContent("still here");
      }
      assertThat(Mounts.mountPointsUnder(shared)).containsExactly(leaf);
    } finally {
      Mounts.unmount(leaf);
      Mounts.unmount(shared);
    }
  }
}
