package dev.stagefarm.cli.e2e;

import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.WorkerLauncher;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.testkit.RegistryFixture;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A farm of a test's own, for what the shared {@link FarmUnderTest} farm cannot do (workers with
 * other settings, faults, restarts): the shared farm's set-up — the shared registry (its busybox
 * as the docker.io mirror), the test broker settings and the test coordinator settings — with the
 * test's home, workers, port and worker launcher. The caller closes it.
 */
final class PrivateFarm {
  /** The test farms' coordinator: 20 s leases, 3 attempts, leases checked every 500 ms. */
  static final BuildCoordinator.Settings COORDINATOR =
      new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(20), 3), Duration.ofMillis(500));

  private PrivateFarm() {}

  /** @param grpcPort 0 for a free TCP port, {@link EmbeddedFarm#IN_PROCESS} for none */
  static EmbeddedFarm start(Path home, int workers, int grpcPort, WorkerLauncher launcher) throws Exception {
    return start(home, workers, COORDINATOR, grpcPort, launcher);
  }

  static EmbeddedFarm start(Path home, int workers, BuildCoordinator.Settings coordinator, int grpcPort,
      WorkerLauncher launcher) throws Exception {
    return EmbeddedFarm.start(new EmbeddedFarm.Options(home, null, workers, RegistryFixture.shared().settings(),
        EmbeddedKafka.Settings.forTests(), coordinator, grpcPort, launcher));
  }
}
