package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.plan.BuildPlanner;
import dev.stagefarm.coordinator.plan.PlannedStage;
import dev.stagefarm.coordinator.plan.PlanningException;
import dev.stagefarm.coordinator.port.BuildJournal;
import dev.stagefarm.coordinator.port.JournalEntry;
import dev.stagefarm.coordinator.port.ProgramRef;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.port.TaskQueue;
import dev.stagefarm.coordinator.port.WorkerControl;
import dev.stagefarm.coordinator.progress.ProgressLog;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.schedule.SchedulerListener;
import dev.stagefarm.coordinator.schedule.StageFailure;
import dev.stagefarm.coordinator.schedule.StageSnapshot;
import dev.stagefarm.coordinator.schedule.StageSpec;
import dev.stagefarm.coordinator.schedule.StageState;
import dev.stagefarm.coordinator.wire.EventMessages;
import dev.stagefarm.program.ProgramInput;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's core: plans submitted builds, schedules their stages over the task queue,
 * follows worker events, assembles the target image, and keeps every build's status, progress
 * and durable record. Transport-free: the gRPC service and the Kafka event stream call into it.
 */
public final class BuildCoordinator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BuildCoordinator.class);

  /** Tunables of the coordinator, passed in by whoever runs it. */
  public record Settings(Scheduler.Settings scheduler, Duration leaseCheckInterval) {
    public static final Settings DEFAULT =
        new Settings(Scheduler.Settings.DEFAULT, Duration.ofSeconds(1));
  }

  private final Clock clock;
  private final Settings settings;
  private final TaskQueue tasks;
  private final WorkerControl control;
  private final BuildJournal journal;
  private final BuildPlanner planner;
  private final ImageAssembler assembler;
  private final Scheduler scheduler;
  private final Map<String, BuildEntry> builds = new ConcurrentHashMap<>();
  private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
  /** Journal writes in order, off the scheduler's lock. */
  private final ExecutorService journalWriter =
      Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("stagefarm-journal").factory());
  private final ScheduledExecutorService leaseTimer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("stagefarm-leases").factory());

  /** Everything the coordinator knows about one build. */
  private static final class BuildEntry {
    final SubmitBuildRequest request;
    final ProgressLog progress;
    BuildPlan plan;
    BuildStatus.Builder status;
    final Map<String, StageResult> results = new LinkedHashMap<>();

    final String buildId;

    BuildEntry(SubmitBuildRequest request, BuildStatus.Builder status, ProgressLog progress) {
      this.buildId = status.getBuildId();
      this.request = request;
      this.status = status;
      this.progress = progress;
    }
  }

  public BuildCoordinator(
      Clock clock,
      Settings settings,
      TaskQueue tasks,
      BuildJournal journal,
      BuildPlanner planner,
      ImageAssembler assembler) {
    this(clock, settings, tasks, WorkerControl.NONE, journal, planner, assembler);
  }

  /** @param control tells the workers which builds ended and which attempts are current */
  public BuildCoordinator(
      Clock clock,
      Settings settings,
      TaskQueue tasks,
      WorkerControl control,
      BuildJournal journal,
      BuildPlanner planner,
      ImageAssembler assembler) {
    this.clock = clock;
    this.settings = settings;
    this.tasks = tasks;
    this.control = control;
    this.journal = journal;
    this.planner = planner;
    this.assembler = assembler;
    this.scheduler = new Scheduler(clock, settings.scheduler(), this::dispatch, new Listener());
    long period = settings.leaseCheckInterval().toMillis();
    leaseTimer.scheduleAtFixedRate(this::checkLeases, period, period, TimeUnit.MILLISECONDS);
  }

  // --- the API the gRPC service uses ----------------------------------------------------------

  /** Plans and starts a build. Planning errors give a FAILED status with the error, not an exception. */
  public BuildStatus submit(SubmitBuildRequest request) {
    String buildId = newBuildId();
    BuildEntry entry =
        new BuildEntry(
            request,
            BuildStatus.newBuilder()
                .setBuildId(buildId)
                .setState(BuildState.QUEUED)
                .setTarget(request.getTarget())
                .setCreatedMs(clock.millis()),
            new ProgressLog(clock));
    builds.put(buildId, entry);
    BuildPlan plan;
    try {
      plan = planner.plan(buildId, request);
    } catch (PlanningException e) {
      finishBuild(entry, BuildState.FAILED, e.getMessage(), "");
      return status(buildId).orElseThrow();
    } catch (StackOverflowError e) {
      // a Dockerfile nested deeper than the planner's stack (variables in variables, thousands
      // deep) is the user's input, not a fault of the coordinator
      log.warn("planning build {} exhausted the stack", buildId);
      finishBuild(entry, BuildState.FAILED, "planning failed: the Dockerfile is nested too deeply to plan"
          + " (e.g. variable substitutions within substitutions, thousands of levels)", "");
      return status(buildId).orElseThrow();
    } catch (RuntimeException e) {
      log.error("planning build {} failed", buildId, e);
      finishBuild(entry, BuildState.FAILED, "planning failed: " + describe(e), "");
      return status(buildId).orElseThrow();
    }
    synchronized (entry) {
      entry.plan = plan;
      entry.status.setState(BuildState.RUNNING);
    }
    publishStatus(entry);
    recordAsync(entry);
    scheduler.submit(buildId, specs(plan, request.getNoCache()));
    return status(buildId).orElseThrow();
  }

  public Optional<BuildStatus> status(String buildId) {
    BuildEntry entry = builds.get(buildId);
    if (entry == null) {
      return Optional.empty();
    }
    return Optional.of(withStages(entry).build());
  }

  public List<BuildStatus> list() {
    return builds.keySet().stream()
        .map(this::status)
        .flatMap(Optional::stream)
        .sorted(Comparator.comparingLong(BuildStatus::getCreatedMs))
        .toList();
  }

  /** Cancels a running build; a finished build keeps its state. */
  public Optional<BuildStatus> cancel(String buildId) {
    BuildEntry entry = builds.get(buildId);
    if (entry == null) {
      return Optional.empty();
    }
    if (scheduler.cancel(buildId)) {
      finishBuild(entry, BuildState.CANCELLED, "cancelled", "");
    }
    return status(buildId);
  }

  /** Streams the build's progress after {@code afterSequence}; false when the build is unknown. */
  public boolean watch(String buildId, long afterSequence, ProgressLog.Watcher watcher) {
    BuildEntry entry = builds.get(buildId);
    if (entry == null) {
      return false;
    }
    entry.progress.watch(afterSequence, watcher);
    return true;
  }

  public void unwatch(String buildId, ProgressLog.Watcher watcher) {
    BuildEntry entry = builds.get(buildId);
    if (entry != null) {
      entry.progress.unwatch(watcher);
    }
  }

  /** The manifest digest of a succeeded build. */
  public Optional<String> imageDigest(String buildId) {
    return status(buildId)
        .filter(s -> s.getState() == BuildState.SUCCEEDED)
        .map(BuildStatus::getImageDigest);
  }

  /** The submitted request of a build (tags, outputs) for exports. */
  public Optional<SubmitBuildRequest> request(String buildId) {
    return Optional.ofNullable(builds.get(buildId)).map(e -> e.request);
  }

  // --- worker events -----------------------------------------------------------------------

  /** Applies one worker event (from the event topic). */
  public void onEvent(WorkerEvent event) {
    BuildEntry entry = builds.get(event.buildId());
    if (entry == null) {
      return; // another coordinator's build, or one long gone
    }
    String buildId = event.buildId();
    String stageId = event.stageId();
    int attempt = event.attempt();
    String worker = event.workerId();
    switch (event.kind()) {
      case WorkerEvent.Started started ->
          scheduler.onStarted(buildId, stageId, attempt, worker, started.deliveryCount());
      case WorkerEvent.Heartbeat heartbeat -> scheduler.onHeartbeat(buildId, stageId, attempt, worker);
      case WorkerEvent.Log log -> {
        if (scheduler.onHeartbeat(buildId, stageId, attempt, worker)) {
          entry.progress.append(BuildProgress.newBuilder().setLog(EventMessages.toProto(log)).setLogStageId(stageId));
        }
      }
      case WorkerEvent.OpDone done -> {
        if (scheduler.onHeartbeat(buildId, stageId, attempt, worker)) {
          entry.progress.append(
              BuildProgress.newBuilder().setInstruction(EventMessages.toProto(done)).setLogStageId(stageId));
        }
      }
      case WorkerEvent.Completed completed -> scheduler.onCompleted(buildId, stageId, attempt, completed.result());
      case WorkerEvent.Failed failed ->
          scheduler.onFailed(
              buildId,
              stageId,
              attempt,
              new StageFailure(FailureMessages.describe(dockerfileName(entry.request), failed), failed.retriable()));
    }
  }

  // --- restart -------------------------------------------------------------------------------

  /**
   * Loads the journal: finished builds become queryable again, builds that were running are
   * re-planned and resumed (stages that were queued or running go out again with attempt + 1).
   */
  public int resumeFromJournal() {
    int resumed = 0;
    Collection<JournalEntry> records = journal.replay();
    for (JournalEntry record : records) {
      String buildId = record.buildId();
      if (builds.containsKey(buildId)) {
        continue;
      }
      BuildStatus status = record.status();
      BuildEntry entry = new BuildEntry(record.request(), status.toBuilder(), new ProgressLog(clock));
      builds.put(buildId, entry);
      if (status.getState() != BuildState.RUNNING && status.getState() != BuildState.QUEUED) {
        entry.progress.append(BuildProgress.newBuilder().setBuild(status));
        entry.progress.close();
        continue;
      }
      try {
        BuildPlan plan = planner.plan(buildId, record.request());
        Map<String, Scheduler.RecordedStage> recorded = new HashMap<>();
        for (StageStatus stage : status.getStagesList()) {
          StageResult result = record.stageResults().get(stage.getStageId());
          recorded.put(
              stage.getStageId(),
              new Scheduler.RecordedStage(fromProto(stage.getState()), stage.getAttempt(), Optional.ofNullable(result)));
        }
        synchronized (entry) {
          entry.plan = plan;
          entry.results.putAll(record.stageResults());
        }
        scheduler.resume(buildId, specs(plan, record.request().getNoCache()), recorded, status.getCreatedMs());
        resumed++;
        log.info("resumed build {} from the journal", buildId);
      } catch (PlanningException | RuntimeException | StackOverflowError e) {
        finishBuild(entry, BuildState.FAILED, "could not resume after a coordinator restart: " + describe(e), "");
      }
    }
    return resumed;
  }

  // --- internals -----------------------------------------------------------------------------

  private static List<StageSpec> specs(BuildPlan plan, boolean noCache) {
    return plan.stages().stream()
        .map(
            s ->
                new StageSpec(
                    s.id(),
                    s.name(),
                    s.dependsOn(),
                    noCache ? "" : s.chainKey().hex(),
                    Math.max(1, s.program().ops().size()),
                    noCache ? Optional.empty() : s.cachedResult()))
        .toList();
  }

  /** Builds and publishes the task of a ready stage (called by the scheduler). */
  private void dispatch(String buildId, String stageId, int attempt, Map<String, StageResult> inputs) {
    BuildEntry entry = builds.get(buildId);
    PlannedStage stage = entry.plan.stage(stageId);
    StageResult base = stage.baseStageId().map(inputs::get).orElseGet(() -> stage.base().orElseThrow());
    Map<String, StageResult> programInputs = new LinkedHashMap<>();
    for (ProgramInput input : stage.program().inputs()) {
      String inputStage = stage.stageInputs().get(input.id());
      programInputs.put(input.id(), inputStage != null ? inputs.get(inputStage) : stage.imageInputs().get(input.id()));
    }
    if (attempt > 1) {
      // before the task: a worker that still runs (or is handed) an older attempt drops it
      control.attemptIssued(buildId, stageId, attempt);
    }
    long buildDeadline;
    synchronized (entry) {
      buildDeadline = entry.status.getCreatedMs() + settings.scheduler().buildDeadline().toMillis();
    }
    StageJob.Deadline deadline =
        new StageJob.Deadline(buildDeadline, settings.scheduler().stageDeadline().toMillis());
    tasks.publish(
        new StageJob(
            buildId,
            stageId,
            stage.name(),
            attempt,
            // a stage that is not cached as a whole may still hit on its first ops: the worker
            // takes their recorded layers instead of running them (never for --no-cache)
            !entry.request.getNoCache(),
            new ProgramRef.Inline(stage.program()),
            base,
            programInputs,
            deadline))
        .whenComplete((ok, error) -> {
          if (error != null) {
            onPublishFailed(buildId, stageId, attempt, stage.name(), error);
          }
        });
  }

  /** A task that cannot be published at all fails its build; a transient failure waits for the queue lease. */
  private void onPublishFailed(String buildId, String stageId, int attempt, String stageName, Throwable error) {
    Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
        ? error.getCause() : error;
    if (cause instanceof TaskQueue.PublishException publish && publish.retriable()) {
      log.warn("publishing build {} stage {} attempt {} failed; the queue lease publishes it again: {}",
          buildId, stageId, attempt, cause.getMessage());
      return;
    }
    // off the producer's callback thread: failing the build takes the scheduler's lock
    background.execute(() -> scheduler.onPublishFailed(buildId, stageId, attempt,
        "stage " + stageName + " could not be handed to the workers: " + describe(cause)));
  }

  private final class Listener implements SchedulerListener {
    @Override
    public void stageChanged(StageSnapshot stage) {
      BuildEntry entry = builds.get(stage.buildId());
      if (entry == null) {
        return;
      }
      entry.progress.append(BuildProgress.newBuilder().setStage(toProto(stage)));
      // attempts must be durable: a resumed stage's next attempt outnumbers any still out there
      if (stage.state().finished() || stage.state() == StageState.QUEUED) {
        recordAsync(entry);
      }
    }

    @Override
    public void buildStagesDone(String buildId, Map<String, StageResult> results) {
      BuildEntry entry = builds.get(buildId);
      synchronized (entry) {
        entry.results.putAll(results);
      }
      background.execute(() -> assemble(entry, results));
    }

    @Override
    public void buildFailed(String buildId, String error) {
      BuildEntry entry = builds.get(buildId);
      background.execute(() -> finishBuild(entry, BuildState.FAILED, error, ""));
    }
  }

  private void assemble(BuildEntry entry, Map<String, StageResult> results) {
    BuildPlan plan = entry.plan;
    boolean push = entry.request.getOutputsList().stream().anyMatch(o -> o.getType().equals("registry"));
    try {
      String digest = assembler.assemble(results.get(plan.targetStageId()), entry.request.getTagsList(), push);
      finishBuild(entry, BuildState.SUCCEEDED, "", digest);
    } catch (Exception e) {
      log.warn("assembling build {} failed", plan.buildId(), e);
      finishBuild(entry, BuildState.FAILED, describe(e), "");
    }
  }

  private void finishBuild(BuildEntry entry, BuildState state, String error, String digest) {
    synchronized (entry) {
      BuildState current = entry.status.getState();
      if (current == BuildState.SUCCEEDED || current == BuildState.FAILED || current == BuildState.CANCELLED) {
        return;
      }
      entry.status.setState(state).setError(error).setImageDigest(digest).setFinishedMs(clock.millis());
    }
    // workers kill what still runs of it and drop its queued tasks (stale attempts included)
    control.buildEnded(entry.buildId, state == BuildState.FAILED ? "failed: " + error
        : state.name().toLowerCase(java.util.Locale.ROOT));
    publishStatus(entry);
    recordAsync(entry);
    entry.progress.close();
  }

  private void publishStatus(BuildEntry entry) {
    entry.progress.append(BuildProgress.newBuilder().setBuild(withStages(entry).build()));
  }

  /**
   * The build's status with its stages' current states. Lock order: the scheduler's lock may be
   * held when an entry's lock is taken, never the other way round.
   */
  private BuildStatus.Builder withStages(BuildEntry entry) {
    List<StageSnapshot> stages = scheduler.snapshot(entry.buildId);
    BuildStatus.Builder status;
    synchronized (entry) {
      status = entry.status.clone();
    }
    if (!stages.isEmpty()) {
      status.clearStages();
      stages.forEach(s -> status.addStages(toProto(s)));
    }
    return status;
  }

  private void recordAsync(BuildEntry entry) {
    BuildStatus status = withStages(entry).build();
    JournalEntry record = new JournalEntry(entry.buildId, entry.request, status, scheduler.results(entry.buildId));
    journalWriter.execute(() -> journal.record(record));
  }

  private void checkLeases() {
    try {
      scheduler.checkLeases();
    } catch (RuntimeException e) {
      log.error("lease check failed", e);
    }
  }

  private static StageStatus toProto(StageSnapshot stage) {
    return StageStatus.newBuilder()
        .setStageId(stage.stageId())
        .setName(stage.name())
        .setState(toProto(stage.state()))
        .setAttempt(stage.attempt())
        .setWorkerId(stage.workerId())
        .setStartedMs(stage.startedMs())
        .setFinishedMs(stage.finishedMs())
        .build();
  }

  private static dev.stagefarm.proto.v1.StageState toProto(StageState state) {
    return switch (state) {
      case WAITING -> dev.stagefarm.proto.v1.StageState.STAGE_WAITING;
      case QUEUED -> dev.stagefarm.proto.v1.StageState.STAGE_QUEUED;
      case RUNNING -> dev.stagefarm.proto.v1.StageState.STAGE_RUNNING;
      case DONE -> dev.stagefarm.proto.v1.StageState.STAGE_DONE;
      case CACHED -> dev.stagefarm.proto.v1.StageState.STAGE_CACHED;
      case FAILED -> dev.stagefarm.proto.v1.StageState.STAGE_FAILED;
      case CANCELLED -> dev.stagefarm.proto.v1.StageState.STAGE_CANCELLED;
    };
  }

  private static StageState fromProto(dev.stagefarm.proto.v1.StageState state) {
    return switch (state) {
      case STAGE_DONE -> StageState.DONE;
      case STAGE_CACHED -> StageState.CACHED;
      case STAGE_QUEUED -> StageState.QUEUED;
      case STAGE_RUNNING -> StageState.RUNNING;
      case STAGE_FAILED -> StageState.FAILED;
      case STAGE_CANCELLED -> StageState.CANCELLED;
      default -> StageState.WAITING;
    };
  }

  private static String dockerfileName(SubmitBuildRequest request) {
    return request.getDockerfileName().isEmpty() ? "Dockerfile" : request.getDockerfileName();
  }

  private static String describe(Throwable e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  private static String newBuildId() {
    return UUID.randomUUID().toString().replace("-", "").substring(0, 16);
  }

  @Override
  public void close() {
    leaseTimer.shutdownNow();
    background.shutdown();
    journalWriter.shutdown();
    try {
      journalWriter.awaitTermination(5, TimeUnit.SECONDS);
      background.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** For tests and diagnostics. */
  List<String> buildIds() {
    return new ArrayList<>(builds.keySet());
  }
}
