package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.oci.registry.RegistrySettings;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One farm per home's {@code <home>/workers}: the local farm and {@code stagefarm up} of one home are refused while
 * the other runs there, before they start anything — in particular before their workers' start-up cleanup and their
 * RUN-network pool's, which would remove the running farm's mounts and namespaces. Real farm starts, refused.
 */
class FarmWorkersDirTest {
  @TempDir Path home;

  private final long pid = ProcessHandle.current().pid();

  private EmbeddedFarm.Options options() {
    return new EmbeddedFarm.Options(home, null, 2, RegistrySettings.defaults(), EmbeddedKafka.Settings.forTests(),
        BuildCoordinator.Settings.DEFAULT, EmbeddedFarm.IN_PROCESS, config -> {
          throw new AssertionError("no worker of a refused farm starts");
        });
  }

  /** What a running farm has in {@code <home>/workers}: a worker's stage scratch and a pooled RUN network. */
  private Path[] runningFarmsState() throws Exception {
    Path scratch = Files.writeString(
        Files.createDirectories(home.resolve("workers/worker-1/stages/s1")).resolve("file"), "running");
    Path namespace = Files.writeString(Files.createDirectories(home.resolve("workers/netns")).resolve("ns-1-1"), "");
    return new Path[] {scratch, namespace};
  }

  @Test
  void theLocalFarmIsRefusedWhileStagefarmUpRunsItsWorkersInTheHome() throws Exception {
    try (FarmWorkersDir up = FarmWorkersDir.hold(home, "the all-in-one farm with a broker (stagefarm up)")) {
      Path[] state = runningFarmsState();

      assertThatThrownBy(() -> EmbeddedFarm.startWithoutBroker(options()))
          .hasMessageContaining(home.resolve("workers") + " is in use by the all-in-one farm with a broker"
              + " (stagefarm up) (pid " + pid + ")")
          .hasMessageContaining(home.resolve("workers.lock").toString())
          .hasMessageContaining("stagefarm farm stop")
          .hasMessageContaining("STAGEFARM_HOME");

      assertThat(state[0]).hasContent("running");
      assertThat(state[1]).exists();
      assertThat(home.resolve(EmbeddedFarm.FILE_STORE_DIR)).as("nothing started").doesNotExist();
    }
  }

  @Test
  void stagefarmUpIsRefusedWhileTheLocalFarmRunsItsWorkersInTheHome() throws Exception {
    try (FarmWorkersDir local = FarmWorkersDir.hold(home, "the local farm")) {
      Path[] state = runningFarmsState();

      assertThatThrownBy(() -> EmbeddedFarm.start(options()))
          .hasMessageContaining(home.resolve("workers") + " is in use by the local farm (pid " + pid + ")")
          .hasMessageContaining("--data");

      assertThat(state[0]).hasContent("running");
      assertThat(state[1]).exists();
      assertThat(home.resolve("s3")).as("no S3 server started").doesNotExist();
    }
  }

  @Test
  void aStoppedFarmFreesTheHomeForTheNext() throws Exception {
    FarmWorkersDir.hold(home, "the local farm").close();
    try (FarmWorkersDir next = FarmWorkersDir.hold(home, "the all-in-one farm with a broker (stagefarm up)")) {
      assertThat(next.workers()).isEqualTo(home.resolve("workers"));
    }
  }
}
