package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.worker.config.WorkerConfig;
import dev.stagefarm.worker.runtime.RunNetworkPool;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Which RUN-network pool the embedded farms' workers take (the pools themselves: SandboxPoolTest). */
class InProcessWorkersTest {
  private static final WorkerConfig WORKER =
      WorkerConfig.of("inprocess:test", "file:/store", "key", "secret", "bucket", Path.of("/home/me/workers/worker-3"));

  @Test
  void theSharedPoolIsBesideTheWorkDirsNotInOne() {
    // in a work dir, that worker's start-up cleanup would unmount the other workers' namespaces
    assertThat(InProcessWorkers.Networks.SHARED.poolOf(WORKER))
        .isEqualTo(RunNetworkPool.sharedIn(Path.of("/home/me/workers/netns")));
  }

  @Test
  void theOneShotFarmsWorkersEachMakeTheirOwnOnDemand() {
    assertThat(InProcessWorkers.Networks.EACH_ON_DEMAND.poolOf(WORKER)).isEqualTo(RunNetworkPool.ownOnDemand());
  }
}
