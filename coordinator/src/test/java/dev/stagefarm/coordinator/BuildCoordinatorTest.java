package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.kafka.BuildJournal;
import dev.stagefarm.coordinator.kafka.TaskQueue;
import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.plan.BuildPlanner;
import dev.stagefarm.coordinator.plan.PlannedStage;
import dev.stagefarm.coordinator.plan.PlanningException;
import dev.stagefarm.coordinator.progress.ProgressLog;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.ProgramInput;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildRecord;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The coordinator's wiring with in-memory queue and journal (Kafka itself is tested elsewhere). */
class BuildCoordinatorTest {
  final List<StageTask> published = new CopyOnWriteArrayList<>();
  final Map<String, BuildRecord> journal = new LinkedHashMap<>();

  final TaskQueue queue =
      new TaskQueue() {
        @Override
        public void publish(StageTask task) {
          published.add(task);
        }

        @Override
        public void close() {}
      };

  final BuildJournal memoryJournal =
      new BuildJournal() {
        @Override
        public synchronized void record(BuildRecord record) {
          journal.put(record.getBuildId(), record);
        }

        @Override
        public synchronized Collection<BuildRecord> replay() {
          return new ArrayList<>(journal.values());
        }

        @Override
        public void close() {}
      };

  static final CacheKey BUILD_KEY = new CacheKey("b".repeat(64));

  static StageProgram program(String stageName, List<ProgramInput> inputs) {
    return new StageProgram(StageProgram.VERSION, new ProgramBase.Scratch(), inputs, List.of(), Platform.LINUX_AMD64,
        new CacheKey("0".repeat(64)), Optional.empty(), stageName);
  }

  /** build (FROM scratch) → final (FROM scratch, COPY --from=build). */
  final BuildPlanner planner =
      (buildId, request) -> {
        if (request.getTarget().equals("nope")) {
          throw new PlanningException("target stage \"nope\" not found");
        }
        ImageState scratch = ImageState.newBuilder().setOrigin("scratch").build();
        PlannedStage build =
            new PlannedStage("0-build", "build", 0, program("build", List.of()), List.of(BUILD_KEY), Optional.of(scratch),
                Optional.empty(), Map.of(), Map.of(), Optional.empty());
        ProgramInput fromBuild = new ProgramInput(ProgramInput.stageId("0-build"), BUILD_KEY, "build");
        PlannedStage fin =
            new PlannedStage("1", "1", 1, program("stage-1", List.of(fromBuild)), List.of(), Optional.of(scratch),
                Optional.empty(), Map.of(fromBuild.id(), "0-build"), Map.of(), Optional.empty());
        return new BuildPlan(buildId, List.of(build, fin), "1");
      };

  final List<BuildCoordinator> coordinators = new ArrayList<>();

  BuildCoordinator coordinator() {
    BuildCoordinator c =
        new BuildCoordinator(
            Clock.systemUTC(),
            new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(30), 3), Duration.ofSeconds(1)),
            queue,
            memoryJournal,
            planner,
            (plan, target, request) -> "sha256:" + "a".repeat(64));
    coordinators.add(c);
    return c;
  }

  @AfterEach
  void close() {
    coordinators.forEach(BuildCoordinator::close);
  }

  static StageEvent.Builder event(StageTask task) {
    return StageEvent.newBuilder()
        .setBuildId(task.getBuildId())
        .setStageId(task.getStageId())
        .setAttempt(task.getAttempt())
        .setWorkerId("w1");
  }

  static ImageState result(String origin) {
    return ImageState.newBuilder().setOrigin(origin).build();
  }

  BuildStatus awaitFinished(BuildCoordinator c, String id) throws InterruptedException {
    for (int i = 0; i < 200; i++) {
      BuildStatus s = c.status(id).orElseThrow();
      if (s.getState() != BuildState.RUNNING && s.getState() != BuildState.QUEUED) {
        return s;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("build did not finish");
  }

  @Test
  void runsStagesInOrderPassesInputsByNameAndAssembles() throws Exception {
    BuildCoordinator c = coordinator();
    BuildStatus submitted = c.submit(SubmitBuildRequest.newBuilder().build());
    String id = submitted.getBuildId();
    assertThat(submitted.getState()).isEqualTo(BuildState.RUNNING);
    assertThat(published).extracting(StageTask::getStageId).containsExactly("0-build");
    assertThat(published.get(0).getReuseCachedInstructions()).isTrue();
    assertThat(published.get(0).getSchemaVersion()).isEqualTo(2);
    assertThat(published.get(0).getProgram().getStageName()).isEqualTo("build");
    assertThat(published.get(0).getBase().getOrigin()).isEqualTo("scratch");

    List<BuildProgress> seen = new CopyOnWriteArrayList<>();
    java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
    c.watch(id, 0, new ProgressLog.Watcher() {
      @Override public void next(BuildProgress p) { seen.add(p); }
      @Override public void end() { ended.countDown(); }
    });

    StageTask first = published.get(0);
    c.onEvent(event(first).setStarted(StageEvent.Started.getDefaultInstance()).build());
    c.onEvent(event(first).setCompleted(StageEvent.Completed.newBuilder().setResult(result("built"))).build());

    assertThat(published).hasSize(2);
    StageTask second = published.get(1);
    assertThat(second.getInputsList())
        .extracting(in -> in.getName() + "=" + in.getResult().getOrigin())
        .containsExactly("stage:0-build=built"); // one input per program input, named by its id
    c.onEvent(event(second).setCompleted(StageEvent.Completed.newBuilder().setResult(result("final"))).build());

    BuildStatus done = awaitFinished(c, id);
    assertThat(done.getState()).isEqualTo(BuildState.SUCCEEDED);
    assertThat(done.getImageDigest()).startsWith("sha256:");
    assertThat(ended.await(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(seen).extracting(BuildProgress::getSequence).isSorted().doesNotHaveDuplicates();
    assertThat(seen.get(seen.size() - 1).getBuild().getState()).isEqualTo(BuildState.SUCCEEDED);
  }

  @Test
  void noCacheBuildsAskWorkersToRunEveryInstruction() {
    coordinator().submit(SubmitBuildRequest.newBuilder().setNoCache(true).build());
    assertThat(published.get(0).getReuseCachedInstructions()).isFalse();
  }

  @Test
  void planningErrorFailsTheBuildWithTheMessage() {
    BuildStatus status = coordinator().submit(SubmitBuildRequest.newBuilder().setTarget("nope").build());
    assertThat(status.getState()).isEqualTo(BuildState.FAILED);
    assertThat(status.getError()).isEqualTo("target stage \"nope\" not found");
    assertThat(published).isEmpty();
  }

  @Test
  void failedRunFailsTheBuildWithLineExitCodeAndOutput() throws Exception {
    BuildCoordinator c = coordinator();
    String id = c.submit(SubmitBuildRequest.newBuilder().build()).getBuildId();
    StageTask first = published.get(0);
    c.onEvent(
        event(first)
            .setFailed(
                StageEvent.Failed.newBuilder()
                    .setLine(3)
                    .setExitCode(1)
                    .setMessage("RUN false")
                    .setOutputTail("boom"))
            .build());
    BuildStatus status = awaitFinished(c, id);
    assertThat(status.getState()).isEqualTo(BuildState.FAILED);
    assertThat(status.getError()).isEqualTo("Dockerfile:3: RUN false (exit code 1)\noutput:\n  boom");
  }

  @Test
  void restartedCoordinatorResumesFromTheJournalWithTheNextAttempt() throws Exception {
    BuildCoordinator first = coordinator();
    String id = first.submit(SubmitBuildRequest.newBuilder().build()).getBuildId();
    StageTask task = published.get(0);
    first.onEvent(event(task).setStarted(StageEvent.Started.getDefaultInstance()).build());
    first.onEvent(event(task).setCompleted(StageEvent.Completed.newBuilder().setResult(result("built"))).build());
    first.onEvent(event(published.get(1)).setStarted(StageEvent.Started.getDefaultInstance()).build());
    first.close();

    published.clear();
    BuildCoordinator second = coordinator();
    assertThat(second.resumeFromJournal()).isEqualTo(1);
    assertThat(published).extracting(t -> t.getStageId() + "#" + t.getAttempt()).containsExactly("1#2");
    assertThat(published.get(0).getInputsList().get(0).getResult().getOrigin()).isEqualTo("built");
    second.onEvent(event(published.get(0)).setCompleted(StageEvent.Completed.newBuilder().setResult(result("f"))).build());
    assertThat(awaitFinished(second, id).getState()).isEqualTo(BuildState.SUCCEEDED);
  }
}
