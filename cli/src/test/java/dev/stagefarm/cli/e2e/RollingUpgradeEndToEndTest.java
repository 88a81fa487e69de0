package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageStatus;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.worker.Worker;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling upgrade: worker-1 stands in for a worker of the previous release (it runs stage
 * programs older than the current version only). It is alone on the farm when the build's task
 * arrives, so it is the one that claims it: it hands the task back. worker-2, a current worker,
 * starts only after that hand-back and runs the stage — the first attempt, so the hand-back cost
 * the build no attempt and no failure.
 */
class RollingUpgradeEndToEndTest {

  @Test
  void anOlderWorkerHandsBackANewerProgramAndTheBuildCompletesOnACurrentWorker(@TempDir Path dir) throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    String busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    AtomicReference<Worker> older = new AtomicReference<>();
    CountDownLatch handedBack = new CountDownLatch(1);
    try (EmbeddedFarm farm = PrivateFarm.start(dir.resolve("home"), 2, EmbeddedFarm.IN_PROCESS, config -> {
          if (!config.workerId().equals("worker-1")) {
            return InfrastructureFaultEndToEndTest.startWhenReleased(config, handedBack);
          }
          Worker worker = new Worker(config).understandingProgramsUpTo(StageProgram.VERSION - 1).start();
          older.set(worker);
          Thread.ofVirtual().start(() -> {
            // bounded: startWhenReleased gives up after 2 minutes, and the build's assertion names it
            for (int i = 0; i < 1200 && worker.tasksHandedBack() == 0; i++) {
              try {
                Thread.sleep(100);
              } catch (InterruptedException e) {
                return;
              }
            }
            handedBack.countDown();
          });
          return worker;
        })) {
      BuildStatus done = InfrastructureFaultEndToEndTest.buildOneRun(farm, dir, busybox, progress -> {});

      assertThat(older.get().tasksHandedBack()).as("the older worker handed the task back").isPositive();
      assertThat(done.getState()).as(done.getError()).isEqualTo(BuildState.SUCCEEDED);
      StageStatus stage = done.getStages(0);
      assertThat(stage.getWorkerId()).isEqualTo("worker-2");
      assertThat(stage.getAttempt()).as("a hand-back spends no attempt").isEqualTo(1);
    }
  }
}
