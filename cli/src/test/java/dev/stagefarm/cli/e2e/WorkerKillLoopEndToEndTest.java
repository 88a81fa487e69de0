package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.worker.config.WorkerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10's fault suite, first item: SIGKILL the worker running a build's RUN, ten times in a
 * loop. Every build succeeds, and each stage has exactly one {@code completed} event, so exactly
 * one run's result is used: the stale run (the broker's redelivery, or the coordinator's new
 * attempt, whichever came second) is dropped, not run to a second result.
 */
@Tag("slow")
@Timeout(value = 30, unit = java.util.concurrent.TimeUnit.MINUTES) // bounds a hang (a watch has no deadline), not a speed
class WorkerKillLoopEndToEndTest {
  private static final int ROUNDS = 10;

  @Test
  void tenWorkersKilledMidRunCostTenRetriesAndNoBuild(@TempDir Path dir) throws Exception {
    String busybox = busybox();
    Map<String, ChildWorker> workers = new ConcurrentHashMap<>();
    Path farmKey = dir.resolve("home").resolve(EmbeddedFarm.FARM_KEY_FILE);
    try (EmbeddedFarm farm = farmOfChildWorkers(dir, workers, farmKey)) {
      BuildClient client = new BuildClient(farm.channel(), farm.endpoint());
      List<String> builds = new ArrayList<>();
      for (int round = 1; round <= ROUNDS; round++) {
        String marker = UUID.randomUUID().toString();
        BuildStatus submitted = CancelAndDeadlineEndToEndTest.submit(client, dir.resolve("ctx-" + round),
            "FROM %s\nRUN echo running-%s; sleep 4; echo %s > /out\n".formatted(busybox, marker, marker));
        builds.add(submitted.getBuildId());

        AtomicReference<String> runningOn = new AtomicReference<>();
        AtomicReference<Thread> killer = new AtomicReference<>();
        BuildStatus done = client.watch(submitted.getBuildId(), progress -> {
          if (progress.hasStage() && progress.getStage().getState() == StageState.STAGE_RUNNING) {
            runningOn.set(progress.getStage().getWorkerId());
          }
          boolean inRun = progress.hasLog() && progress.getLog().getData().toStringUtf8().contains("running-" + marker);
          if (inRun && killer.get() == null) {
            // the victim is inside the RUN: kill it and start a fresh worker in its place (off this thread)
            String victim = runningOn.get();
            killer.set(Thread.ofVirtual().start(() -> replace(workers, victim, farmKey)));
          }
        });
        assertThat(killer.get()).as("round %d: a worker was killed mid-RUN", round).isNotNull();
        killer.get().join();
        assertThat(done.getState()).as("round %d: %s", round, done.getError()).isEqualTo(BuildState.SUCCEEDED);
        System.out.printf("round %d: stage attempt %d, finished on %s%n", round, done.getStages(0).getAttempt(),
            done.getStages(0).getWorkerId());
      }

      Map<String, List<StageEvent>> events = FarmEvents.of(farm.kafkaBootstrap(), builds);
      for (String build : builds) {
        List<StageEvent> of = events.getOrDefault(build, List.of());
        assertThat(of.stream().filter(StageEvent::hasCompleted)).as("completed events of build %s", build).hasSize(1);
        assertThat(of.stream().filter(dev.stagefarm.proto.StageRuns::marksRun).count()).as("runs of build %s", build)
            .isGreaterThanOrEqualTo(2);
      }
    } finally {
      for (ChildWorker worker : workers.values()) {
        worker.kill();
      }
    }
  }

  /**
   * A poison stage: whichever worker runs it dies (here: SIGKILLed as soon as its RUN prints). The
   * build fails after {@code max-attempts} (3) lost runs, naming why, and no fourth worker dies:
   * the build's end reaches every worker, which drop the task when Kafka hands it out again.
   */
  @Test
  void aStageThatKillsEveryWorkerFailsItsBuildAfterThreeWorkers(@TempDir Path dir) throws Exception {
    String busybox = busybox();
    Map<String, ChildWorker> workers = new ConcurrentHashMap<>();
    Path farmKey = dir.resolve("home").resolve(EmbeddedFarm.FARM_KEY_FILE);
    try (EmbeddedFarm farm = farmOfChildWorkers(dir, workers, farmKey)) {
      BuildClient client = new BuildClient(farm.channel(), farm.endpoint());
      String marker = UUID.randomUUID().toString();
      BuildStatus submitted = CancelAndDeadlineEndToEndTest.submit(client, dir.resolve("ctx"),
          "FROM %s\nRUN echo poison-%s; sleep 30\n".formatted(busybox, marker));

      List<Thread> kills = new ArrayList<>();
      BuildStatus done = client.watch(submitted.getBuildId(), progress -> {
        if (progress.hasLog() && progress.getLog().getData().toStringUtf8().contains("poison-" + marker)) {
          System.out.printf("poison stage: a run printed (kill %d)%n", kills.size() + 1);
          // a redelivered run does not change the stage's status: find its worker by its container
          kills.add(Thread.ofVirtual().start(() -> replace(workers, workerRunningAContainer(workers), farmKey)));
        }
      });
      for (Thread kill : kills) {
        kill.join();
      }
      assertThat(done.getState()).isEqualTo(BuildState.FAILED);
      assertThat(done.getError()).matches("stage 0 failed (on 3 workers|3 times on [12] workers?) \\(last error: .*\\)");
      assertThat(done.getInfrastructureFailure()).as("dead workers are the farm's failure: the client exits 3").isTrue();
      Thread.sleep(10_000); // past another record lock: nobody runs it again
      List<StageEvent> events = FarmEvents.of(farm.kafkaBootstrap(), List.of(submitted.getBuildId()))
          .getOrDefault(submitted.getBuildId(), List.of());
      long runs = events.stream().filter(dev.stagefarm.proto.StageRuns::marksRun).count();
      System.out.printf("poison stage: %d runs, %d workers killed, build error: %s%n", runs, kills.size(),
          done.getError());
      assertThat(runs).isLessThanOrEqualTo(4); // the 4th start is what shows the 3rd run was lost
      assertThat(kills.size()).isLessThanOrEqualTo(4);
    } finally {
      for (ChildWorker worker : workers.values()) {
        worker.kill();
      }
    }
  }

  private static String busybox() throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    return registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
  }

  /** An embedded farm whose two workers are child JVMs, kept in {@code workers} by id. */
  private static EmbeddedFarm farmOfChildWorkers(Path dir, Map<String, ChildWorker> workers, Path farmKey)
      throws Exception {
    return PrivateFarm.start(dir.resolve("home"), 2, EmbeddedFarm.IN_PROCESS, config -> {
          ChildWorker worker = ChildWorker.start(config, farmKey);
          workers.put(config.workerId(), worker);
          return () -> workers.get(config.workerId()).close();
        });
  }

  /**
   * The id of the live worker that has a runc container (the one running the stage). A killed
   * worker's container lives on until its replacement cleans it up, so dead workers are skipped.
   */
  private static String workerRunningAContainer(Map<String, ChildWorker> workers) {
    for (int i = 0; i < 200; i++) {
      for (ChildWorker worker : workers.values()) {
        if (worker.alive()
            && !CancelAndDeadlineEndToEndTest.containers(worker.config.workDir().resolve("runc")).isEmpty()) {
          return worker.config.workerId();
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw new IllegalStateException("no worker runs a container");
  }

  private static void replace(Map<String, ChildWorker> workers, String victim, Path farmKey) {
    try {
      ChildWorker dead = workers.get(victim);
      dead.kill();
      workers.put(victim, ChildWorker.start(dead.config, farmKey)); // cleans what the dead one left
    } catch (Exception e) {
      throw new IllegalStateException("replacing worker " + victim + " failed", e);
    }
  }
}
