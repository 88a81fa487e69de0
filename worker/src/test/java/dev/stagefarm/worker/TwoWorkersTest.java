package dev.stagefarm.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.config.WorkerConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Two real workers (one slot each) on one share group both execute stages of one burst of tasks. */
class TwoWorkersTest {
  private static StageHarness farm;
  private static Worker second;

  @BeforeAll
  static void start() throws Exception {
    farm = new StageHarness(1);
    WorkerConfig config = WorkerConfig.of(farm.kafka, farm.s3.endpoint(), farm.s3.accessKey(), farm.s3.secretKey(),
            farm.s3.bucket(), farm.workDir.resolve("second-work"))
        .withWorkerId("second-worker")
        .withTimings(Duration.ofMillis(500), Duration.ofMillis(500), Duration.ofSeconds(5))
        .withFarmKeys(StageHarness.FARM_KEYS);
    second = new Worker(config).start();
  }

  @AfterAll
  static void stop() {
    second.close();
    farm.close();
  }

  @Test
  void bothWorkersTakeTasks() throws Exception {
    List<StageTask> tasks = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      StageTask task = farm.task(ProgramBuilder.program().run("sleep 2 && echo " + i + " > /n").build(),
          farm.busybox()).build();
      tasks.add(task);
      farm.publish(task);
    }
    List<StageEvent> outcomes = new ArrayList<>();
    for (StageTask task : tasks) {
      outcomes.add(farm.awaitEvent(e -> e.getBuildId().equals(task.getBuildId()) && (e.hasCompleted() || e.hasFailed()),
          Duration.ofSeconds(120)));
    }
    assertThat(outcomes).allSatisfy(e -> assertThat(e.hasCompleted()).isTrue());
    Set<String> workers = outcomes.stream().map(StageEvent::getWorkerId).collect(Collectors.toSet());
    assertThat(workers).containsExactlyInAnyOrder("exec-worker", "second-worker");
  }
}
