package dev.stagefarm.coordinator.inprocess;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.Retention;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.plan.BuildPlanner;
import dev.stagefarm.coordinator.plan.PlannedStage;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.program.TaskRouting;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.program.inprocess.InProcessShareQueue;
import dev.stagefarm.program.inprocess.SignedRecord;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The local farm's coordinator lives for hours on the in-process bus: after many builds (some
 * cancelled mid-way) nothing of them is left in the bus, the journal or the coordinator beyond its
 * bounded summaries. The coordinator and the bus's ports are the real ones; the workers are
 * stand-ins that take each task from the bus and report it done, signed as a worker does.
 */
class LongLivedInProcessFarmTest {
  private static final FarmKeys KEYS = FarmKeys.generate();
  private static final int MAX_SUMMARIES = 20;
  /** Details evicted at the first sweep after a build ends; summaries bounded by count. */
  private static final Retention RETENTION =
      new Retention(Duration.ZERO, Duration.ofHours(1), MAX_SUMMARIES, Duration.ofHours(1));
  private static final String IMAGE = "sha256:" + "a".repeat(64);

  private final InProcessBus bus = new InProcessBus(Duration.ofSeconds(30), 5);
  private final InMemoryBuildJournal journal = new InMemoryBuildJournal();
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final AtomicLong tasksRun = new AtomicLong();
  private final List<Thread> workers = new ArrayList<>();
  private BuildCoordinator coordinator;
  private InProcessEventStream events;

  /** One stage that always needs a worker: no cached result, and a key of its own (no two builds share its run). */
  private final BuildPlanner planner = (buildId, request) -> {
    StageResult scratch = new StageResult(List.of(), new byte[0], "scratch");
    StageProgram program = new StageProgram(StageProgram.VERSION, new ProgramBase.Scratch(), List.of(), List.of(),
        Platform.LINUX_AMD64, new CacheKey("0".repeat(64)), Optional.empty(), "only");
    return new BuildPlan(buildId, List.of(new PlannedStage("0", "only", 0, program,
        List.of(new CacheKey(sha256(buildId))), Optional.of(scratch), Optional.empty(), Map.of(), Map.of(),
        Optional.empty())), "0");
  };

  private static String sha256(String text) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  @AfterEach
  void close() throws InterruptedException {
    stopped.set(true);
    bus.tasks().wake();
    for (Thread worker : workers) {
      worker.join(5_000);
    }
    if (events != null) {
      events.close();
    }
    if (coordinator != null) {
      coordinator.close();
    }
  }

  @Test
  void manyBuildsLeaveNothingBehindButBoundedSummaries() throws Exception {
    coordinator = new BuildCoordinator(Clock.systemUTC(),
        new BuildCoordinator.Settings(Scheduler.Settings.DEFAULT, Duration.ofSeconds(1)).withRetention(RETENTION),
        new InProcessTaskQueue(bus, KEYS), new InProcessWorkerControl(bus, KEYS, Clock.systemUTC()), journal,
        planner, (target, tags, push) -> IMAGE);
    events = new InProcessEventStream(bus, KEYS, coordinator::onEvent).start();
    for (int i = 0; i < 4; i++) {
      String member = "worker-" + i;
      Thread worker = Thread.ofPlatform().name(member).start(() -> work(member));
      workers.add(worker);
    }

    int builds = 300;
    List<String> ids = new ArrayList<>();
    for (int wave = 0; wave < builds / 10; wave++) {
      List<String> waveIds = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        String id = coordinator.submit(SubmitBuildRequest.newBuilder().setTarget("t").build()).getBuildId();
        if (i == 0) {
          coordinator.cancel(id); // killed mid-way: its task may be queued or running
        }
        waveIds.add(id);
      }
      for (String id : waveIds) {
        awaitFinished(id);
      }
      ids.addAll(waveIds);
      coordinator.sweepFinished();
    }
    awaitTrue(() -> bus.tasks().pending() == 0, "the queue drained");
    awaitTrue(() -> journal.recorded() >= builds, "the outbox journaled every build");
    coordinator.sweepFinished();

    assertThat(tasksRun.get()).as("the workers ran the builds' tasks").isGreaterThanOrEqualTo(builds * 9L / 10);
    assertThat(bus.tasks().pending()).as("no task left in the queue").isZero();
    assertThat(bus.tasks().archived()).isZero();
    assertThat(bus.droppedEvents()).isZero();
    assertThat(bus.takeEvent(Duration.ofMillis(300))).as("no event left unread").isNull();
    assertThat(journal.recorded()).as("the coordinator journaled its builds").isGreaterThanOrEqualTo(builds);
    assertThat(journal.replay()).isEmpty();
    List<BuildStatus> remembered = coordinator.list();
    assertThat(remembered).as("only the newest summaries stay").hasSizeLessThanOrEqualTo(MAX_SUMMARIES);
    assertThat(remembered).allSatisfy(s -> assertThat(s.getStagesList()).as("a summary, not the details").isEmpty());
    assertThat(coordinator.status(ids.getFirst())).as("the oldest build is forgotten").isEmpty();
  }

  /** A stand-in worker slot: takes a task, reports it started and completed, accepts it. */
  private void work(String member) {
    String topic = TaskRouting.topic(Platform.LINUX_AMD64);
    try {
      while (!stopped.get()) {
        Optional<InProcessShareQueue.Delivery> claimed =
            bus.tasks().claim(member, List.of(topic), Duration.ofSeconds(1), stopped::get);
        if (claimed.isEmpty()) {
          continue;
        }
        InProcessShareQueue.Delivery delivery = claimed.get();
        StageTask task = StageTask.parseFrom(delivery.record().value());
        publish(event(task, member).setStarted(StageEvent.Started.getDefaultInstance()).build());
        publish(event(task, member).setCompleted(StageEvent.Completed.newBuilder()
            .setResult(ImageState.newBuilder().setOrigin("ran-by:" + member))).build());
        tasksRun.incrementAndGet();
        bus.tasks().acknowledge(member, delivery.topic(), delivery.offset(), InProcessShareQueue.Ack.ACCEPT);
      }
    } catch (Exception e) {
      if (!stopped.get()) {
        throw new AssertionError(member + " failed", e);
      }
    }
  }

  private static StageEvent.Builder event(StageTask task, String member) {
    return StageEvent.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION).setBuildId(task.getBuildId())
        .setStageId(task.getStageId()).setAttempt(task.getAttempt()).setWorkerId(member)
        .setTimestampMs(System.currentTimeMillis());
  }

  private void publish(StageEvent event) throws InterruptedException {
    assertThat(bus.putEvent(SignedRecord.sign(KEYS, FarmKeys.Purpose.EVENT, event.getBuildId(), event.toByteArray()),
        Duration.ofSeconds(10))).isTrue();
  }

  private void awaitFinished(String id) throws InterruptedException {
    awaitTrue(() -> {
      BuildState state = coordinator.status(id).map(BuildStatus::getState).orElse(BuildState.SUCCEEDED);
      return state == BuildState.SUCCEEDED || state == BuildState.FAILED || state == BuildState.CANCELLED;
    }, "build " + id + " finished");
  }

  private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > until) {
        throw new AssertionError(what + ": not within 30 s");
      }
      Thread.sleep(5);
    }
  }
}
