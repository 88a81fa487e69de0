package dev.stagefarm.worker;

import dev.stagefarm.worker.exec.StageExecutors;
import dev.stagefarm.worker.layers.Trees;
import dev.stagefarm.worker.runtime.Mounts;
import dev.stagefarm.worker.runtime.Runc;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a killed worker leaves behind in its work dir — runc containers, overlay and tmpfs mounts,
 * stage scratch dirs — removed at start, in that order (a mount can only go once no container
 * uses it). Extracted layers and cache mounts are kept: they are caches, valid across restarts.
 */
final class StaleState {
  private static final Logger log = LoggerFactory.getLogger(StaleState.class);

  private StaleState() {}

  static void clean(StageExecutors.WorkDir workDir, String runcBinary) throws IOException {
    List<String> containers = new Runc(runcBinary, workDir.runcState()).deleteAll();
    List<Path> mounts = Mounts.mountPointsUnder(workDir.root());
    for (Path mount : mounts) {
      Mounts.unmount(mount);
    }
    Trees.deleteRecursively(workDir.stages());
    if (!containers.isEmpty() || !mounts.isEmpty()) {
      log.info("removed stale state of an earlier run: {} containers, {} mounts", containers.size(), mounts.size());
    }
  }
}
