package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.plan.BuildPlanner;
import dev.stagefarm.coordinator.plan.PlannedStage;
import dev.stagefarm.coordinator.plan.PlanningException;
import dev.stagefarm.coordinator.port.BuildJournal;
import dev.stagefarm.coordinator.port.InMemoryBuildJournal;
import dev.stagefarm.coordinator.port.InMemoryBuildSecretStore;
import dev.stagefarm.coordinator.port.InMemoryTaskQueue;
import dev.stagefarm.coordinator.port.ProgramRef;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.port.TaskQueue;
import dev.stagefarm.coordinator.port.WorkerControl;
import dev.stagefarm.coordinator.progress.ProgressLog;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.schedule.SchedulingPolicy;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.ProgramInput;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The coordinator's wiring with in-memory queue and journal (Kafka itself is tested elsewhere). */
class BuildCoordinatorTest {
  final InMemoryTaskQueue queue = new InMemoryTaskQueue();
  final List<StageJob> published = queue.published();
  final InMemoryBuildJournal memoryJournal = new InMemoryBuildJournal();

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
        StageResult scratch = result("scratch");
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

  final InMemoryBuildSecretStore secretStore = new InMemoryBuildSecretStore();

  BuildCoordinator coordinator() {
    return coordinator(queue, memoryJournal, planner);
  }

  BuildCoordinator coordinator(TaskQueue tasks, BuildJournal journal, BuildPlanner buildPlanner) {
    BuildCoordinator c =
        new BuildCoordinator(
            Clock.systemUTC(),
            new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(30), 3), Duration.ofSeconds(1))
                .withDurableTimeout(Duration.ofMillis(500)),
            tasks,
            journal,
            buildPlanner,
            (target, tags, push) -> "sha256:" + "a".repeat(64),
            secretStore);
    coordinators.add(c);
    return c;
  }

  /** The task published at {@code index}, once the outbox has written it. */
  StageJob published(int index) throws InterruptedException {
    awaitPublished(index + 1);
    return published.get(index);
  }

  void awaitPublished(int count) throws InterruptedException {
    for (int i = 0; i < 500 && published.size() < count; i++) {
      Thread.sleep(10);
    }
    assertThat(published).hasSizeGreaterThanOrEqualTo(count);
  }

  @AfterEach
  void close() {
    coordinators.forEach(BuildCoordinator::close);
  }

  static WorkerEvent event(StageJob job, WorkerEvent.Kind kind) {
    return new WorkerEvent(job.buildId(), job.stageId(), job.attempt(), "w1", kind);
  }

  static WorkerEvent completed(StageJob job, String origin) {
    return event(job, new WorkerEvent.Completed(result(origin)));
  }

  static StageResult result(String origin) {
    return new StageResult(List.of(), new byte[0], origin);
  }

  static StageProgram programOf(StageJob job) {
    return ((ProgramRef.Inline) job.program()).program();
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

  /** What the coordinator told the workers, in order. */
  final List<String> controlMessages = new CopyOnWriteArrayList<>();

  final WorkerControl control = new WorkerControl() {
    @Override
    public void buildEnded(String buildId, String reason) {
      controlMessages.add("ended " + buildId + ": " + reason);
    }

    @Override
    public void attemptIssued(String buildId, String stageId, int attempt) {
      controlMessages.add("attempt " + buildId + "/" + stageId + " #" + attempt);
    }

    @Override
    public void close() {}
  };

  BuildCoordinator coordinator(TaskQueue tasks) {
    BuildCoordinator c =
        new BuildCoordinator(
            Clock.systemUTC(),
            new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(30), 3)
                .withDeadlines(Duration.ofMinutes(10), Duration.ofHours(2)), Duration.ofSeconds(1)),
            tasks,
            control,
            memoryJournal,
            planner,
            (target, tags, push) -> "sha256:" + "a".repeat(64));
    coordinators.add(c);
    return c;
  }

  @Test
  void tasksCarryTheBuildDeadlineAndTheStageTimeout() throws Exception {
    BuildCoordinator c = coordinator(queue);
    BuildStatus submitted = c.submit(SubmitBuildRequest.newBuilder().build());
    StageJob.Deadline deadline = published(0).deadline();
    assertThat(deadline.stageTimeoutMs()).isEqualTo(Duration.ofMinutes(10).toMillis());
    assertThat(deadline.buildDeadlineEpochMs())
        .isEqualTo(submitted.getCreatedMs() + Duration.ofHours(2).toMillis());
  }

  @Test
  void workersHearOfNewAttemptsBeforeTheTaskAndOfTheBuildsEnd() throws Exception {
    BuildCoordinator c = coordinator(queue);
    String id = c.submit(SubmitBuildRequest.newBuilder().build()).getBuildId();
    StageJob first = published(0);
    c.onEvent(event(first, new WorkerEvent.Started()));
    c.onEvent(event(first, new WorkerEvent.Failed(0, 1, -1, "disk full", "", true)));
    awaitPublished(2);
    assertThat(published).hasSize(2);
    assertThat(controlMessages).containsExactly("attempt " + id + "/0-build #2");

    c.cancel(id);
    assertThat(controlMessages).containsExactly("attempt " + id + "/0-build #2", "ended " + id + ": cancelled");
  }

  @Test
  void aTaskTheQueueRefusesFailsTheBuildNamingWhy() throws Exception {
    TaskQueue refusing = new TaskQueue() {
      @Override
      public void publish(StageJob job) {
        throw new dev.stagefarm.coordinator.port.WriteFailure(dev.stagefarm.coordinator.port.WriteFailure.Kind.REFUSED,
            "Kafka refused the task of stage build (the task record is 2097200 bytes): too large", null);
      }

      @Override
      public void close() {}
    };
    BuildCoordinator c = coordinator(refusing);
    String id = c.submit(SubmitBuildRequest.newBuilder().build()).getBuildId();
    BuildStatus done = awaitFinished(c, id);
    assertThat(done.getState()).isEqualTo(BuildState.FAILED);
    assertThat(done.getError()).isEqualTo("stage build could not be handed to the workers: Kafka refused the task of"
        + " stage build (the task record is 2097200 bytes): too large");
    // the status turns FAILED just before the workers are told, on the coordinator's own thread
    for (int i = 0; i < 500 && controlMessages.isEmpty(); i++) {
      Thread.sleep(10);
    }
    assertThat(controlMessages).containsExactly("ended " + id + ": failed: " + done.getError());
  }

  @Test
  void aTransientPublishFailureIsRetriedAndTheBuildKeepsRunning() throws Exception {
    TaskQueue flaky = new TaskQueue() {
      @Override
      public void publish(StageJob job) {
        throw new dev.stagefarm.coordinator.port.WriteFailure(dev.stagefarm.coordinator.port.WriteFailure.Kind.RETRIABLE,
            "timed out", null);
      }

      @Override
      public void close() {}
    };
    BuildCoordinator c = coordinator(flaky);
    String id = c.submit(SubmitBuildRequest.newBuilder().build()).getBuildId();
    Thread.sleep(200);
    assertThat(c.status(id).orElseThrow().getState()).isEqualTo(BuildState.RUNNING);
  }

  @Test
  void runsStagesInOrderPassesInputsByNameAndAssembles() throws Exception {
    BuildCoordinator c = coordinator();
    BuildStatus submitted = c.submit(SubmitBuildRequest.newBuilder().build());
    String id = submitted.getBuildId();
    assertThat(submitted.getState()).isEqualTo(BuildState.RUNNING);
    awaitPublished(1);
    assertThat(published).extracting(StageJob::stageId).containsExactly("0-build");
    assertThat(published(0).reuseCachedOps()).isTrue();
    assertThat(programOf(published(0)).stageName()).isEqualTo("build");
    assertThat(published(0).base().origin()).isEqualTo("scratch");

    List<BuildProgress> seen = new CopyOnWriteArrayList<>();
    java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
    c.watch(id, 0, new ProgressLog.Watcher() {
      @Override public void next(BuildProgress p) { seen.add(p); }
      @Override public void end() { ended.countDown(); }
    });

    StageJob first = published(0);
    c.onEvent(event(first, new WorkerEvent.Started()));
    c.onEvent(completed(first, "built"));

    awaitPublished(2);
    assertThat(published).hasSize(2);
    StageJob second = published(1);
    assertThat(second.inputs()).containsExactly(Map.entry("stage:0-build", result("built"))); // by program input id
    c.onEvent(completed(second, "final"));

    BuildStatus done = awaitFinished(c, id);
    assertThat(done.getState()).isEqualTo(BuildState.SUCCEEDED);
    assertThat(done.getImageDigest()).startsWith("sha256:");
    assertThat(ended.await(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(seen).extracting(BuildProgress::getSequence).isSorted().doesNotHaveDuplicates();
    assertThat(seen.get(seen.size() - 1).getBuild().getState()).isEqualTo(BuildState.SUCCEEDED);
  }

  @Test
  void noCacheBuildsAskWorkersToRunEveryInstruction() throws Exception {
    coordinator().submit(SubmitBuildRequest.newBuilder().setNoCache(true).build());
    assertThat(published(0).reuseCachedOps()).isFalse();
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
    StageJob first = published(0);
    c.onEvent(event(first, new WorkerEvent.Failed(0, 3, 1, "RUN false", "boom", false)));
    BuildStatus status = awaitFinished(c, id);
    assertThat(status.getState()).isEqualTo(BuildState.FAILED);
    assertThat(status.getError()).isEqualTo("Dockerfile:3: RUN false (exit code 1)\noutput:\n  boom");
  }

  @Test
  void aStageItsWorkerKilledAtADeadlineFailsTheBuildAsTheFarms() throws Exception {
    BuildCoordinator c = coordinator();
    String id = c.submit(SubmitBuildRequest.newBuilder().build()).getBuildId();
    StageJob first = published(0);
    c.onEvent(event(first, new WorkerEvent.Failed(0, 0, -1,
        "stage 0 ran past its deadline of PT20S (coordinator setting stage-deadline); killed", "", false, true)));
    BuildStatus status = awaitFinished(c, id);
    assertThat(status.getState()).isEqualTo(BuildState.FAILED);
    assertThat(status.getError()).contains("ran past its deadline of PT20S");
    assertThat(status.getInfrastructureFailure()).as("the client exits 3").isTrue();
  }

  @Test
  void aFailedRunIsTheBuildsFailureNotTheFarms() throws Exception {
    BuildCoordinator c = coordinator();
    String id = c.submit(SubmitBuildRequest.newBuilder().build()).getBuildId();
    c.onEvent(event(published(0), new WorkerEvent.Failed(0, 3, 1, "RUN false", "", false)));
    assertThat(awaitFinished(c, id).getInfrastructureFailure()).isFalse();
  }

  @Test
  void restartedCoordinatorResumesFromTheJournalWithTheNextAttempt() throws Exception {
    BuildCoordinator first = coordinator();
    String id = first.submit(SubmitBuildRequest.newBuilder().build()).getBuildId();
    StageJob task = published(0);
    first.onEvent(event(task, new WorkerEvent.Started()));
    first.onEvent(completed(task, "built"));
    first.onEvent(event(published(1), new WorkerEvent.Started()));
    first.close();

    published.clear();
    BuildCoordinator second = coordinator();
    assertThat(second.resumeFromJournal()).isEqualTo(1);
    awaitPublished(1);
    assertThat(published).extracting(t -> t.stageId() + "#" + t.attempt()).containsExactly("1#2");
    assertThat(published(0).inputs().get("stage:0-build").origin()).isEqualTo("built");
    second.onEvent(completed(published(0), "f"));
    assertThat(awaitFinished(second, id).getState()).isEqualTo(BuildState.SUCCEEDED);
  }

  @Test
  void theOwnerAndThePerOwnerLimitSurviveARestart() throws Exception {
    BuildCoordinator first = coordinator();
    String id = first.submit(SubmitBuildRequest.newBuilder().build(), "alice", 1).getBuildId();
    first.close();

    BuildCoordinator second = coordinator();
    second.resumeFromJournal();
    assertThat(second.status(id).orElseThrow().getOwner()).isEqualTo("alice");
    // the resumed build still counts against alice's limit, not against bob's
    assertThatThrownBy(() -> second.submit(SubmitBuildRequest.newBuilder().build(), "alice", 1))
        .isInstanceOfSatisfying(BuildLimitExceededException.class, e -> assertThat(e.limit()).isEqualTo(1));
    assertThat(second.submit(SubmitBuildRequest.newBuilder().build(), "bob", 1).getOwner()).isEqualTo("bob");
  }

  static SubmitBuildRequest withSecret(String id, String value) {
    return SubmitBuildRequest.newBuilder()
        .addSecrets(dev.stagefarm.proto.v1.BuildSecret.newBuilder().setId(id)
            .setValue(com.google.protobuf.ByteString.copyFromUtf8(value)))
        .build();
  }

  @Test
  void aBuildsSecretsAreStoredBeforeItsTasksKeptOutOfTheJournalAndDeletedWhenItEnds() throws Exception {
    BuildCoordinator c = coordinator();
    String id = c.submit(withSecret("token", "the-value")).getBuildId();
    assertThat(secretStore.stored().get(id).value("token")).hasValueSatisfying(
        v -> assertThat(new String(v, java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("the-value"));
    awaitPublished(1);
    assertThat(published).singleElement().satisfies(job -> assertThat(job.buildSecrets()).isTrue());
    // the kept request (journal, exports) names the secret, never its value
    SubmitBuildRequest kept = c.request(id).orElseThrow();
    assertThat(kept.getSecretsList()).singleElement().satisfies(s -> {
      assertThat(s.getId()).isEqualTo("token");
      assertThat(s.getValue().isEmpty()).isTrue();
    });

    c.onEvent(completed(published(0), "built"));
    awaitPublished(2);
    c.onEvent(completed(published(1), "final"));
    assertThat(awaitFinished(c, id).getState()).isEqualTo(BuildState.SUCCEEDED);
    for (int i = 0; i < 200 && !secretStore.deleted().contains(id); i++) {
      Thread.sleep(10);
    }
    assertThat(secretStore.deleted()).contains(id);
    c.close();
    for (var entry : memoryJournal.replay()) {
      assertThat(entry.request().toString()).doesNotContain("the-value");
    }
  }

  @Test
  void registryCredentialsReachThePlannerButNeverTheKeptRequestOrTheJournal() throws Exception {
    List<SubmitBuildRequest> planned = new java.util.concurrent.CopyOnWriteArrayList<>();
    BuildCoordinator c = coordinator(queue, memoryJournal, (buildId, request) -> {
      planned.add(request);
      return planner.plan(buildId, request);
    });
    String id = c.submit(SubmitBuildRequest.newBuilder().setDockerfile(com.google.protobuf.ByteString.copyFromUtf8(
        "FROM scratch\n")).addRegistryCredentials(dev.stagefarm.proto.v1.RegistryCredential.newBuilder()
        .setRegistry("registry.example").setUsername("team").setSecret("registry-password")).build()).getBuildId();

    assertThat(planned).singleElement().satisfies(r -> assertThat(r.getRegistryCredentials(0).getSecret())
        .isEqualTo("registry-password"));
    SubmitBuildRequest kept = c.request(id).orElseThrow();
    assertThat(kept.getRegistryCredentialsList()).singleElement().satisfies(r -> {
      assertThat(r.getRegistry()).isEqualTo("registry.example");
      assertThat(r.getUsername()).isEmpty();
      assertThat(r.getSecret()).isEmpty();
    });
    c.close();
    assertThat(memoryJournal.replay()).isNotEmpty().allSatisfy(entry ->
        assertThat(entry.request().toString()).doesNotContain("registry-password").doesNotContain("team"));
  }

  @Test
  void aResumedBuildStillFlagsItsTasksForItsSealedSecrets() throws Exception {
    BuildCoordinator first = coordinator();
    String id = first.submit(withSecret("token", "v")).getBuildId();
    first.close();
    published.clear();
    BuildCoordinator second = coordinator();
    assertThat(second.resumeFromJournal()).isEqualTo(1);
    awaitPublished(1);
    assertThat(published).singleElement().satisfies(job -> {
      assertThat(job.buildId()).isEqualTo(id);
      assertThat(job.buildSecrets()).isTrue();
    });
  }

  @Test
  void aBuildWithoutSecretsStoresNoneAndItsTasksSayNone() throws Exception {
    coordinator().submit(SubmitBuildRequest.newBuilder().build());
    assertThat(secretStore.stored()).isEmpty();
    awaitPublished(1);
    assertThat(published(0).buildSecrets()).isFalse();
  }

  @Test
  void secretsThatCannotBeStoredFailTheBuildBeforeAnyTask() {
    BuildCoordinator c = new BuildCoordinator(Clock.systemUTC(), BuildCoordinator.Settings.DEFAULT, queue,
        memoryJournal, planner, (target, tags, push) -> "sha256:" + "a".repeat(64));
    coordinators.add(c);
    BuildStatus status = c.submit(withSecret("token", "v"));
    assertThat(status.getState()).isEqualTo(BuildState.FAILED);
    assertThat(status.getError()).isEqualTo(
        "storing the build's secrets failed: this coordinator has no store for build secrets");
    assertThat(published).isEmpty();
  }

  /**
   * One worker slot (no worker reported, unreported capacity 1): each further build of one stage
   * (a cache key of its own, so no build waits on another's) is held back. Admission counts the held stages of the farm and of
   * the tenant and refuses over either limit, naming it (the API makes OVER_LIMIT RESOURCE_EXHAUSTED).
   */
  @Test
  void aSubmitOverTheFarmsOrItsTenantsHeldStageLimitIsRefusedNamingTheLimit() {
    SchedulingPolicy policy = new SchedulingPolicy(Map.of(), 0, Map.of(), 2, 3, 0, 1, 20);
    BuildCoordinator c = new BuildCoordinator(Clock.systemUTC(),
        new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(30), 3), Duration.ofSeconds(1))
            .withDurableTimeout(Duration.ofMillis(500)).withScheduling(policy),
        queue, memoryJournal, (buildId, request) -> {
          CacheKey key = new CacheKey(buildId.repeat(4));
          StageProgram program = new StageProgram(StageProgram.VERSION, new ProgramBase.Scratch(), List.of(), List.of(),
              Platform.LINUX_AMD64, key, Optional.empty(), "only");
          return new BuildPlan(buildId, List.of(new PlannedStage("0", "only", 0, program, List.of(key),
              Optional.of(result("scratch")), Optional.empty(), Map.of(), Map.of(), Optional.empty())), "0");
        }, (target, tags, push) -> "sha256:" + "a".repeat(64), secretStore);
    coordinators.add(c);
    SubmitBuildRequest request = SubmitBuildRequest.getDefaultInstance();
    for (int i = 0; i < 3; i++) {
      c.submit(request, null, "", "a", 100); // the first runs, the next two wait
    }
    assertThat(c.dispatchState().held()).isEqualTo(2);

    assertThatThrownBy(() -> c.submit(request, null, "", "a", 100))
        .isInstanceOfSatisfying(AdmissionRefused.class,
            e -> assertThat(e.reason()).isEqualTo(AdmissionRefused.Reason.OVER_LIMIT))
        .hasMessage("tenant a has 2 stages waiting for a worker slot: the limit max-queued-stages-per-tenant is 2"
            + " (wait for its builds to progress or cancel one)");
    c.submit(request, null, "", "b", 100); // another tenant: within both limits
    assertThatThrownBy(() -> c.submit(request, null, "", "b", 100))
        .isInstanceOfSatisfying(AdmissionRefused.class,
            e -> assertThat(e.reason()).isEqualTo(AdmissionRefused.Reason.OVER_LIMIT))
        .hasMessage("the farm has 3 stages waiting for a worker slot: the limit max-queued-stages is 3"
            + " (try again when the queue has drained)");
    assertThat(c.dispatchState().held()).isEqualTo(3);
  }
}
