package dev.stagefarm.worker;

import static dev.stagefarm.worker.EventWatcher.of;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageEvent.KindCase;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.config.WorkerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real worker (child JVM) is SIGKILLed in the middle of a RUN. The task is completed by the other
 * worker exactly once, and a worker restarted on the dead one's work dir removes the container and
 * mounts it left behind.
 */
class WorkerKillTest {
  private static StageHarness farm;

  @BeforeAll
  static void start() throws Exception {
    farm = new StageHarness(1, false);
  }

  @AfterAll
  static void stop() {
    farm.close();
  }

  @Test
  void aWorkerKilledMidRunCostsARetryNotAResult() throws Exception {
    Path childWork = farm.workDir.resolve("doomed-work");
    // only the doomed worker has this pids limit: its RUN sleeps, the survivor's does not
    StageTask task = farm.task(ProgramBuilder.program().run(ProgramBuilder.exec(
            "if [ \"$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)\" = "
                + WorkerMain.DOOMED_PIDS + " ]; then echo sleeping; sleep 300; fi; echo done > /result.txt"))
        .build(), farm.busybox()).build();

    Process child = ChildJvm.startReady(WorkerMain.class, farm.kafka, farm.s3.endpoint(), farm.s3.accessKey(),
        farm.s3.secretKey(), farm.s3.bucket(), childWork.toString(), "doomed");
    try {
      farm.publish(task);
      farm.awaitEvent(e -> of(task.getBuildId(), KindCase.LOG).test(e) && e.getWorkerId().equals("doomed"), Duration.ofSeconds(60));
      farm.startWorker(); // the survivor joins while the doomed worker is inside the RUN
      child.destroyForcibly(); // SIGKILL: its runc container and mounts stay behind
      child.waitFor();
      StageEvent done = farm.awaitEvent(e -> e.getBuildId().equals(task.getBuildId()) && e.hasCompleted(), Duration.ofSeconds(120));
      assertThat(done.getWorkerId()).isEqualTo("exec-worker");
      ImageState result = StageHarness.completed(done);
      assertThat(Files.readString(farm.unpack(result).resolve("result.txt"))).isEqualTo("done\n");
      farm.drainEvents(Duration.ofSeconds(2));
      List<StageEvent> events = farm.events(task.getBuildId());
      assertThat(events).filteredOn(StageEvent::hasCompleted).hasSize(1);
      assertThat(events).filteredOn(StageEvent::hasFailed).isEmpty();
      assertThat(events).filteredOn(dev.stagefarm.proto.StageRuns::marksRun).extracting(StageEvent::getWorkerId)
          .containsExactly("doomed", "exec-worker");
    } finally {
      child.destroyForcibly();
    }

    // the dead worker's leftovers: a running container and mounts under its work dir
    assertThat(runcList(childWork)).isNotEmpty();
    assertThat(mountsUnder(childWork)).isNotEmpty();
    WorkerConfig restart = WorkerConfig.of(farm.kafka, farm.s3.endpoint(), farm.s3.accessKey(), farm.s3.secretKey(),
        farm.s3.bucket(), childWork).withWorkerId("doomed-restarted").withFarmKeys(StageHarness.FARM_KEYS);
    new Worker(restart).start().close();
    assertThat(runcList(childWork)).isEmpty();
    assertThat(mountsUnder(childWork)).isEmpty();
    assertThat(childWork.resolve("stages")).satisfiesAnyOf(
        p -> assertThat(p).doesNotExist(), p -> assertThat(Files.list(p).toList()).isEmpty());
  }

  private static String runcList(Path workDir) throws Exception {
    Process p = new ProcessBuilder("runc", "--root", workDir.resolve("runc").toString(), "list", "-q").start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    p.waitFor();
    return out;
  }

  private static List<String> mountsUnder(Path dir) throws Exception {
    String prefix = dir.toAbsolutePath() + "/";
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .map(l -> l.split(" ")[4])
        .filter(m -> m.startsWith(prefix))
        .toList();
  }
}
