package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.InProcessWorkers;
import dev.stagefarm.cli.farm.WorkerLauncher;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded farm's start, where its workers start alongside the coordinator. */
class EmbeddedFarmStartTest {
  @TempDir Path dir;

  @Test
  void aWorkerThatFailsToStartFailsTheFarmNamingItsCauseAndTheWorkersThatStartedAreStopped() throws Exception {
    AtomicBoolean startedWorkerStopped = new AtomicBoolean();
    WorkerLauncher real = InProcessWorkers.launcher();
    WorkerLauncher launcher = config -> {
      if (config.workerId().equals("worker-2")) {
        throw new IOException("worker-2 cannot start (test)");
      }
      AutoCloseable worker = real.start(config);
      return () -> {
        worker.close();
        startedWorkerStopped.set(true);
      };
    };

    assertThatThrownBy(() -> PrivateFarm.start(dir.resolve("home"), 2, EmbeddedFarm.IN_PROCESS, launcher).close())
        .hasMessageContaining("worker-2 cannot start (test)");
    assertThat(startedWorkerStopped).as("worker-1, which started, was stopped with the farm").isTrue();

    // nothing of the failed farm holds its home: a farm starts there again
    try (EmbeddedFarm farm = PrivateFarm.start(dir.resolve("home"), 1, EmbeddedFarm.IN_PROCESS, real)) {
      assertThat(farm.coordinator()).isNotNull();
    }
  }
}
