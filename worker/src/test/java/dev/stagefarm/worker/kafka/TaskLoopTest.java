package dev.stagefarm.worker.kafka;

import static dev.stagefarm.worker.EventWatcher.of;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageEvent.KindCase;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.testkit.KafkaFixture;
import dev.stagefarm.worker.ChildJvm;
import dev.stagefarm.worker.EventWatcher;
import dev.stagefarm.worker.StageHarness;
import dev.stagefarm.worker.StageFailedException;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.StageRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The claim / renew / acknowledge protocol (docs/protocol.md) against a real broker, with a
 * sleeping stand-in for the executor. The broker's record lock is 6 s here.
 */
class TaskLoopTest {
  /** The farm key of these tests' workers (also of the child JVM's, {@link WorkerProcessMain}). */
  static final FarmKeys FARM_KEYS = StageHarness.FARM_KEYS;
  private static String bootstrap;

  @BeforeAll
  static void broker() {
    bootstrap = KafkaFixture.bootstrapServers();
    FarmTopics.ensure(bootstrap, FarmTopics.Layout.singleBroker());
  }

  @Test
  void twoWorkersOnOneShareGroupBothTakeTasks() {
    String build = "two-" + UUID.randomUUID();
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop a = loop("worker-a", Duration.ofSeconds(5)).start();
        TaskLoop b = loop("worker-b", Duration.ofSeconds(5)).start()) {
      for (int i = 0; i < 6; i++) {
        publish(task(build, "s" + i, 1500));
      }
      for (int i = 0; i < 6; i++) {
        String stage = "s" + i;
        watcher.await(e -> of(build, KindCase.COMPLETED).test(e) && e.getStageId().equals(stage), Duration.ofSeconds(60));
      }
      watcher.drain(Duration.ofSeconds(1));
      var completed = watcher.events(of(build, KindCase.COMPLETED));
      assertThat(completed).extracting(StageEvent::getStageId).doesNotHaveDuplicates().hasSize(6);
      Set<String> workers = completed.stream().map(StageEvent::getWorkerId).collect(Collectors.toSet());
      assertThat(workers).containsExactlyInAnyOrder("worker-a", "worker-b");
      assertThat(completed).allSatisfy(e ->
          assertThat(e.getCompleted().getResult().getOrigin()).isEqualTo("ran-by:" + e.getWorkerId()));
    }
  }

  @Test
  void aWorkersFreeSlotsAllStartTasksPublishedTogetherWithoutWaitingForOneAnother() {
    // each free slot takes a task while the others' stages still run: none waits for a completion
    String build = "together-" + UUID.randomUUID();
    TaskSlot.Settings settings = settings("worker-three-slots", Duration.ofSeconds(5), Duration.ZERO);
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop worker = new TaskLoop(settings, 3, Duration.ofMillis(500),
            new SleepingRunner("worker-three-slots")).start()) {
      for (int i = 0; i < 3; i++) {
        publish(task(build, "s" + i, 8000));
      }
      for (int i = 0; i < 3; i++) {
        String stage = "s" + i;
        watcher.await(e -> of(build, KindCase.COMPLETED).test(e) && e.getStageId().equals(stage), Duration.ofSeconds(90));
      }
      watcher.drain(Duration.ofSeconds(1));
      List<StageEvent> lifecycle = watcher.events(e -> e.getBuildId().equals(build)
          && (e.getKindCase() == KindCase.STARTED || e.getKindCase() == KindCase.COMPLETED));
      assertThat(lifecycle).extracting(StageEvent::getKindCase).containsExactly(
          KindCase.STARTED, KindCase.STARTED, KindCase.STARTED,
          KindCase.COMPLETED, KindCase.COMPLETED, KindCase.COMPLETED);
      assertThat(lifecycle.subList(0, 3)).extracting(StageEvent::getStageId).doesNotHaveDuplicates();
      assertThat(lifecycle).extracting(StageEvent::getWorkerId).containsOnly("worker-three-slots");
    }
  }

  @Test
  void aStageThatEndsWithinTheStartDelayPublishesNoStartedAndALongerOneItsStartedFirst() {
    // docs/protocol.md, "One event for a stage that ends at once": its op's event, then its completion
    String build = "instant-" + UUID.randomUUID();
    StageRunner oneOp = (task, progress) -> {
      progress.instructionStarted(0);
      long now = System.currentTimeMillis();
      progress.instructionDone(0, java.util.Optional.empty(), true, now, now);
      Thread.sleep(Long.parseLong(task.getStageName().substring("sleep:".length())));
      return ImageState.newBuilder().setOrigin("ran-by:worker-instant").build();
    };
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop worker = new TaskLoop(settings("worker-instant", Duration.ofSeconds(5), Duration.ZERO), 1,
            Duration.ofSeconds(5), oneOp).start()) {
      long before = System.currentTimeMillis();
      publish(task(build, "instant", 0));
      StageEvent alone = watcher.await(e -> of(build, KindCase.COMPLETED).test(e) && e.getStageId().equals("instant"),
          Duration.ofSeconds(60));
      publish(task(build, "longer", 6 * RunningStage.START_EVENT_DELAY.toMillis()));
      StageEvent after = watcher.await(e -> of(build, KindCase.COMPLETED).test(e) && e.getStageId().equals("longer"),
          Duration.ofSeconds(60));
      watcher.drain(Duration.ofSeconds(1));

      assertThat(alone.getCompleted().getStartedMs()).as("when it started, by the worker's clock")
          .isBetween(before, alone.getTimestampMs());
      assertThat(after.getCompleted().getStartedMs()).as("announced by its started: no start here").isZero();
      assertThat(watcher.events(e -> e.getBuildId().equals(build) && e.getKindCase() != KindCase.HEARTBEAT))
          .extracting(e -> e.getStageId() + " " + e.getKindCase())
          .containsExactly("instant INSTRUCTION_DONE", "instant COMPLETED",
              "longer STARTED", "longer INSTRUCTION_DONE", "longer COMPLETED");
    }
  }

  @Test
  void aWorkerWithNoFreeSlotClaimsNothingWhileAWorkerWithAFreeSlotTakesTheTask() {
    String build = "busy-" + UUID.randomUUID();
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop busy = loop("worker-busy", Duration.ofSeconds(5)).start()) {
      publish(task(build, "long", 10_000));
      watcher.await(e -> of(build, KindCase.STARTED).test(e) && e.getStageId().equals("long"), Duration.ofSeconds(60));
      publish(task(build, "waiting", 500)); // longer than the start delay: it publishes a started
      try (TaskLoop free = loop("worker-free", Duration.ofSeconds(5)).start()) {
        watcher.await(e -> of(build, KindCase.COMPLETED).test(e) && e.getStageId().equals("waiting"),
            Duration.ofSeconds(60));
        watcher.await(e -> of(build, KindCase.COMPLETED).test(e) && e.getStageId().equals("long"), Duration.ofSeconds(60));
      }
      watcher.drain(Duration.ofSeconds(1));
      List<StageEvent> lifecycle = watcher.events(e -> e.getBuildId().equals(build)
          && (e.getKindCase() == KindCase.STARTED || e.getKindCase() == KindCase.COMPLETED));
      assertThat(lifecycle).extracting(e -> e.getStageId() + " " + e.getKindCase() + " " + e.getWorkerId())
          .containsExactly("long STARTED worker-busy", "waiting STARTED worker-free", "waiting COMPLETED worker-free",
              "long COMPLETED worker-busy");
    }
  }

  @Test
  void aTaskWithoutTheFarmsMacIsRejectedAndNeverRuns() {
    String build = "forged-" + UUID.randomUUID();
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop worker = loop("worker-trusting", Duration.ofSeconds(5)).start()) {
      send(new ProducerRecord<>(Topics.TASKS, build, task(build, "unsigned", 100).toByteArray()));
      send(FarmMacs.sign(FarmKeys.generate(), FarmKeys.Purpose.TASK,
          new ProducerRecord<>(Topics.TASKS, build, task(build, "other-key", 100).toByteArray())));
      ProducerRecord<String, byte[]> edited = FarmMacs.sign(FARM_KEYS, FarmKeys.Purpose.TASK,
          new ProducerRecord<>(Topics.TASKS, build, task(build, "edited", 100).toByteArray()));
      send(new ProducerRecord<>(Topics.TASKS, null, build, task(build, "edited-after-signing", 100).toByteArray(),
          edited.headers()));
      publish(task(build, "genuine", 100));

      watcher.await(of(build, KindCase.COMPLETED), Duration.ofSeconds(60));
      watcher.drain(Duration.ofSeconds(2));
      assertThat(watcher.events(e -> e.getBuildId().equals(build))).extracting(StageEvent::getStageId)
          .containsOnly("genuine");
    }
  }

  @Test
  void aTaskSignedWithAWorkersRoleKeyIsRejectedAndNeverRuns(@TempDir Path dir) throws Exception {
    FarmKeys.RoleKeyFiles files = FarmKeys.generateRoleKeys();
    FarmKeys coordinator = FarmKeys.load(Files.writeString(dir.resolve("coordinator.key"), files.coordinator()));
    FarmKeys workerKeys = FarmKeys.load(Files.writeString(dir.resolve("worker.key"), files.worker()));
    // all a worker that turned hostile holds: its own private key, which it uses for a task
    String workerPrivate = files.worker().lines().filter(l -> l.startsWith("worker-private ")).findFirst().orElseThrow();
    FarmKeys hostile = FarmKeys.load(Files.writeString(dir.resolve("hostile.key"),
        workerPrivate.replace("worker-private", "coordinator-private")));
    String build = "role-" + UUID.randomUUID();
    TaskSlot.Settings settings = new TaskSlot.Settings(bootstrap, Topics.WORKER_SHARE_GROUP, "worker-roles",
        Duration.ofMillis(500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ZERO, workerKeys);
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop worker = new TaskLoop(settings, 1, Duration.ofMillis(500), new SleepingRunner("worker-roles")).start()) {
      send(FarmMacs.sign(hostile, FarmKeys.Purpose.TASK,
          new ProducerRecord<>(Topics.TASKS, build, task(build, "signed-by-a-worker", 100).toByteArray())));
      send(FarmMacs.sign(workerKeys, FarmKeys.Purpose.EVENT, // a worker's valid signature, for another purpose
          new ProducerRecord<>(Topics.TASKS, build, task(build, "event-signature", 100).toByteArray())));
      send(FarmMacs.sign(coordinator, FarmKeys.Purpose.TASK,
          new ProducerRecord<>(Topics.TASKS, build, task(build, "genuine", 100).toByteArray())));

      watcher.await(of(build, KindCase.COMPLETED), Duration.ofSeconds(60));
      watcher.drain(Duration.ofSeconds(2));
      assertThat(watcher.events(e -> e.getBuildId().equals(build))).extracting(StageEvent::getStageId)
          .containsOnly("genuine");
    }
  }

  @Test
  void theRunnerHearsThatAStageReportedOncePerStageAfterItsOutcomeWasPublished() {
    String build = "reported-" + UUID.randomUUID();
    List<String> calls = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    StageRunner runner = new StageRunner() {
      @Override
      public dev.stagefarm.proto.v1.ImageState run(StageTask task, dev.stagefarm.worker.StageProgress progress)
          throws StageFailedException {
        calls.add("run " + task.getStageId());
        if (task.getStageId().equals("failing")) {
          throw new StageFailedException(StageFailure.build(0, 1, "exit 1"), new RuntimeException("exit 1"));
        }
        return dev.stagefarm.proto.v1.ImageState.newBuilder().setOrigin("reported").build();
      }

      @Override
      public void stageReported() {
        calls.add("reported");
      }
    };
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop worker = new TaskLoop(settings("worker-reported", Duration.ofSeconds(5), Duration.ZERO), 1,
            Duration.ofMillis(500), runner).start()) {
      publish(task(build, "completing", 0));
      watcher.await(of(build, KindCase.COMPLETED), Duration.ofSeconds(60));
      awaitCalls(calls, 2);
      assertThat(calls).containsExactly("run completing", "reported");
      publish(task(build, "failing", 0));
      watcher.await(of(build, KindCase.FAILED), Duration.ofSeconds(60));
      awaitCalls(calls, 4);
    }
    assertThat(calls).containsExactly("run completing", "reported", "run failing", "reported");
  }

  /** Bounded only to turn a hang into a failure. */
  private static void awaitCalls(List<String> calls, int n) {
    try {
      for (int i = 0; i < 600 && calls.size() < n; i++) {
        Thread.sleep(50);
      }
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aStageLongerThanTheRecordLockRunsOnceAndHeartbeats() {
    String build = "long-" + UUID.randomUUID();
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop a = loop("worker-long-a", Duration.ofSeconds(5)).start();
        TaskLoop b = loop("worker-long-b", Duration.ofSeconds(5)).start()) {
      publish(task(build, "long", 14_000)); // lock is 6 s: needs two renewals at least
      watcher.await(of(build, KindCase.COMPLETED), Duration.ofSeconds(60));
      watcher.drain(Duration.ofSeconds(8)); // past another lock period: nothing redelivered
      assertThat(watcher.events(of(build, KindCase.STARTED))).hasSize(1);
      assertThat(watcher.events(of(build, KindCase.COMPLETED))).hasSize(1);
      assertThat(watcher.events(of(build, KindCase.HEARTBEAT)).size()).isGreaterThanOrEqualTo(5);
    }
  }

  @Test
  void gracefulShutdownReleasesARunningStageToAnotherWorker() {
    String build = "release-" + UUID.randomUUID();
    try (EventWatcher watcher = new EventWatcher(bootstrap)) {
      TaskLoop leaving = loop("worker-leaving", Duration.ZERO).start();
      publish(task(build, "s", 4000));
      StageEvent started = watcher.await(of(build, KindCase.STARTED), Duration.ofSeconds(30));
      assertThat(started.getWorkerId()).isEqualTo("worker-leaving");
      leaving.close(); // cancels the stage and releases its record
      try (TaskLoop staying = loop("worker-staying", Duration.ofSeconds(5)).start()) {
        StageEvent done = watcher.await(of(build, KindCase.COMPLETED), Duration.ofSeconds(60));
        assertThat(done.getWorkerId()).isEqualTo("worker-staying");
      }
      assertThat(watcher.events(of(build, KindCase.COMPLETED))).hasSize(1);
    }
  }

  @Test
  void anInfrastructureFaultIsReleasedAndRetriedOnAnotherWorkerWhileTheFaultyOnePauses() {
    String build = "fault-" + UUID.randomUUID();
    StageRunner faulty = (task, progress) -> {
      throw new StageFailedException(StageFailure.infrastructure(0, 2, "worker I/O failed: No space left on device"));
    };
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop broken = new TaskLoop(settings("worker-faulty", Duration.ofSeconds(5), Duration.ofSeconds(60)), 1,
            Duration.ofMillis(500), faulty).start()) {
      publish(task(build, "s", 100));
      StageEvent failed = watcher.await(of(build, KindCase.FAILED), Duration.ofSeconds(30));
      assertThat(failed.getWorkerId()).isEqualTo("worker-faulty");
      assertThat(failed.getFailed().getRetriable()).isTrue();
      // the record was released; the faulty worker claims nothing while it pauses, a healthy one takes it
      try (TaskLoop healthy = loop("worker-healthy", Duration.ofSeconds(5)).start()) {
        StageEvent done = watcher.await(of(build, KindCase.COMPLETED), Duration.ofSeconds(60));
        assertThat(done.getWorkerId()).isEqualTo("worker-healthy");
      }
      assertThat(watcher.events(run(build)))
          .extracting(StageEvent::getWorkerId)
          .containsExactly("worker-faulty", "worker-healthy");
    }
  }

  @Test
  void aKilledWorkersTaskIsCompletedByAnotherWorkerExactlyOnce() throws Exception {
    String build = "kill-" + UUID.randomUUID();
    Process child = ChildJvm.startReady(WorkerProcessMain.class, bootstrap, "worker-doomed");
    try (EventWatcher watcher = new EventWatcher(bootstrap)) {
      publish(task(build, "victim", 500)); // the child sleeps forever whatever the task says
      StageEvent started = watcher.await(of(build, KindCase.STARTED), Duration.ofSeconds(60));
      assertThat(started.getWorkerId()).isEqualTo("worker-doomed");
      // the survivor joins while the victim holds the record; its stage will be short
      try (TaskLoop survivor = loop("worker-survivor", Duration.ofSeconds(5)).start()) {
        watcher.await(e -> of(build, KindCase.HEARTBEAT).test(e), Duration.ofSeconds(10));
        child.destroyForcibly(); // SIGKILL: no acknowledgement, no goodbye
        child.waitFor();
        StageEvent done = watcher.await(of(build, KindCase.COMPLETED), Duration.ofSeconds(120));
        assertThat(done.getWorkerId()).isEqualTo("worker-survivor");
        assertThat(done.getCompleted().getResult().getOrigin()).isEqualTo("ran-by:worker-survivor");
        watcher.drain(Duration.ofSeconds(2));
      }
      assertThat(watcher.events(of(build, KindCase.COMPLETED))).hasSize(1);
      assertThat(watcher.events(run(build)))
          .extracting(StageEvent::getWorkerId)
          .containsExactly("worker-doomed", "worker-survivor");
    } finally {
      child.destroyForcibly();
    }
  }

  /** The events that say a worker ran a stage of {@code build} (a started, or a completion that came alone). */
  private static java.util.function.Predicate<StageEvent> run(String build) {
    return e -> e.getBuildId().equals(build) && dev.stagefarm.proto.StageRuns.marksRun(e);
  }

  private static TaskLoop loop(String workerId, Duration grace) {
    return new TaskLoop(settings(workerId, grace, Duration.ZERO), 1, Duration.ofMillis(500), new SleepingRunner(workerId));
  }

  private static TaskSlot.Settings settings(String workerId, Duration grace, Duration faultPause) {
    return new TaskSlot.Settings(bootstrap, Topics.WORKER_SHARE_GROUP, workerId, Duration.ofMillis(500), grace,
        Duration.ofSeconds(10), faultPause, FARM_KEYS);
  }

  private static StageTask task(String build, String stage, long sleepMs) {
    return StageTask.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setBuildId(build)
        .setStageId(stage)
        .setAttempt(1)
        .setStageName("sleep:" + sleepMs)
        .build();
  }

  /** Publishes a task as the coordinator would: signed with the farm's key. */
  private static void publish(StageTask task) {
    send(FarmMacs.sign(FARM_KEYS, FarmKeys.Purpose.TASK,
        new ProducerRecord<>(Topics.TASKS, task.getBuildId(), task.toByteArray())));
  }

  private static void send(ProducerRecord<String, byte[]> record) {
    try (var producer = new KafkaProducer<String, byte[]>(
        Map.of("bootstrap.servers", bootstrap), new StringSerializer(), new ByteArraySerializer())) {
      producer.send(record).get();
    } catch (Exception e) {
      throw new AssertionError("publishing a task failed", e);
    }
  }
}
