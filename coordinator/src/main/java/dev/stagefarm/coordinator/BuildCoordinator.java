package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.outbox.Outbox;
import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.plan.BuildPlanner;
import dev.stagefarm.coordinator.plan.PlannedStage;
import dev.stagefarm.coordinator.plan.PlanningException;
import dev.stagefarm.coordinator.port.BuildJournal;
import dev.stagefarm.coordinator.port.JournalEntry;
import dev.stagefarm.coordinator.port.PinnedImage;
import dev.stagefarm.coordinator.port.ProgramRef;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.port.TaskQueue;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's core: plans submitted builds, schedules their stages over the task queue,
 * follows worker events, assembles the target image, and keeps every build's status, progress
 * and durable record. Transport-free: the gRPC service and the Kafka event stream call into it.
 */
public final class BuildCoordinator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BuildCoordinator.class);

  /**
   * Tunables of the coordinator, passed in by whoever runs it.
   *
   * @param durableTimeout how long SubmitBuild waits for the build's record to be durable before
   *     it refuses the build (UNAVAILABLE)
   * @param outbox the writer of tasks and records (retry backoff, backlog limit)
   */
  public record Settings(
      Scheduler.Settings scheduler, Duration leaseCheckInterval, Duration durableTimeout, Outbox.Settings outbox) {
    public static final Settings DEFAULT =
        new Settings(Scheduler.Settings.DEFAULT, Duration.ofSeconds(1));

    public Settings(Scheduler.Settings scheduler, Duration leaseCheckInterval) {
      this(scheduler, leaseCheckInterval, Duration.ofSeconds(15), Outbox.Settings.DEFAULT);
    }

    public Settings withDurableTimeout(Duration timeout) {
      return new Settings(scheduler, leaseCheckInterval, timeout, outbox);
    }
  }

  /**
   * SubmitBuild could not make the build durable (Kafka unreachable, or too many writes waiting):
   * the build does not run, and the client should try again later.
   */
  public static final class BuildNotAccepted extends RuntimeException {
    public BuildNotAccepted(String message) {
      super(message);
    }
  }

  private final Clock clock;
  private final Settings settings;
  private final BuildJournal journal;
  private final Outbox outbox;
  private volatile Consumer<String> fencedHandler = reason -> {};
  private final BuildPlanner planner;
  private final ImageAssembler assembler;
  private final Scheduler scheduler;
  private final Map<String, BuildEntry> builds = new ConcurrentHashMap<>();
  private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
  private final ScheduledExecutorService leaseTimer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("stagefarm-leases").factory());

  /** Everything the coordinator knows about one build. */
  private static final class BuildEntry {
    final SubmitBuildRequest request;
    final ProgressLog progress;
    /** How many coordinators resumed the build before this one (its progress numbering). */
    final long progressEpoch;
    BuildPlan plan;
    /** The base images the plan pinned; a resume plans against these, never a tag. */
    Map<String, PinnedImage> pins = Map.of();
    BuildStatus.Builder status;
    final Map<String, StageResult> results = new LinkedHashMap<>();

    final String buildId;

    BuildEntry(SubmitBuildRequest request, BuildStatus.Builder status, Clock clock, long progressEpoch) {
      this.buildId = status.getBuildId();
      this.request = request;
      this.status = status;
      this.progressEpoch = progressEpoch;
      this.progress = new ProgressLog(clock, progressEpoch);
    }
  }

  public BuildCoordinator(
      Clock clock,
      Settings settings,
      TaskQueue tasks,
      BuildJournal journal,
      BuildPlanner planner,
      ImageAssembler assembler) {
    this.clock = clock;
    this.settings = settings;
    this.journal = journal;
    this.outbox = new Outbox(tasks, journal, settings.outbox(), new OutboxListener());
    this.planner = planner;
    this.assembler = assembler;
    this.scheduler = new Scheduler(clock, settings.scheduler(), this::dispatch, new Listener());
    long period = settings.leaseCheckInterval().toMillis();
    leaseTimer.scheduleAtFixedRate(this::checkLeases, period, period, TimeUnit.MILLISECONDS);
  }

  // --- the API the gRPC service uses ----------------------------------------------------------

  /** Called (once, on the outbox thread) when another coordinator has fenced this one. */
  public void whenFenced(Consumer<String> handler) {
    this.fencedHandler = handler;
  }

  /**
   * Plans and starts a build, and returns once its record is durable: an acknowledged build
   * survives any coordinator's death. Planning errors give a FAILED status with the error, not an
   * exception.
   *
   * @throws BuildNotAccepted when the record could not be made durable in time (the build does not
   *     run) or too many writes wait for Kafka already
   */
  public BuildStatus submit(SubmitBuildRequest request) {
    if (outbox.backlogged()) {
      throw new BuildNotAccepted("the coordinator cannot write to Kafka: " + outbox.queued()
          + " writes are waiting (last error: " + outbox.lastFailure() + "); try again later");
    }
    String buildId = newBuildId();
    BuildEntry entry =
        new BuildEntry(
            request,
            BuildStatus.newBuilder()
                .setBuildId(buildId)
                .setState(BuildState.QUEUED)
                .setTarget(request.getTarget())
                .setCreatedMs(clock.millis()),
            clock,
            0);
    builds.put(buildId, entry);
    BuildStatus planned = plan(entry);
    awaitDurable(entry);
    if (planned.getState() == BuildState.RUNNING) {
      scheduler.submit(buildId, specs(entry.plan, request.getNoCache()));
    }
    return status(buildId).orElseThrow();
  }

  /** Plans the build: RUNNING with its plan, or FAILED with the planning error. */
  private BuildStatus plan(BuildEntry entry) {
    String buildId = entry.buildId;
    SubmitBuildRequest request = entry.request;
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
      entry.pins = plan.pinnedImages();
      entry.status.setState(BuildState.RUNNING);
    }
    publishStatus(entry);
    return status(buildId).orElseThrow();
  }

  /**
   * Waits until the build's latest record is durable. When it is not in time, the build is
   * forgotten and a FAILED record is queued behind the first (it replaces it if that is still
   * waiting, or lands after it), so a record written late never resumes a build the client was
   * told did not start.
   */
  private void awaitDurable(BuildEntry entry) {
    CompletableFuture<Void> durable = recordAsync(entry);
    String why;
    try {
      durable.get(settings.durableTimeout().toMillis(), TimeUnit.MILLISECONDS);
      return;
    } catch (TimeoutException e) {
      why = "Kafka did not acknowledge it within " + settings.durableTimeout().toSeconds() + "s"
          + (outbox.lastFailure().isEmpty() ? "" : " (" + outbox.lastFailure() + ")");
    } catch (ExecutionException e) {
      why = describe(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      why = "interrupted";
    }
    builds.remove(entry.buildId);
    String message = "the build was not started: its record could not be written to the build journal: " + why;
    BuildStatus abandoned;
    synchronized (entry) {
      abandoned = entry.status.clone().setState(BuildState.FAILED).setError(message).setFinishedMs(clock.millis())
          .build();
    }
    outbox.record(new JournalEntry(entry.buildId, entry.request, abandoned, Map.of(), entry.pins, entry.progressEpoch));
    entry.progress.close();
    throw new BuildNotAccepted(message);
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
      case WorkerEvent.Started started -> scheduler.onStarted(buildId, stageId, attempt, worker);
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
   * re-planned against the base images their first plan pinned and resumed (stages that were
   * queued or running go out again with attempt + 1), each in its next progress epoch. Returns
   * once the resumed builds' records are durable (or after the durable timeout).
   */
  public int resumeFromJournal() {
    int resumed = 0;
    long replayStarted = System.nanoTime();
    Collection<JournalEntry> records = journal.replay();
    log.info("read {} build record(s) from the journal in {} ms", records.size(),
        (System.nanoTime() - replayStarted) / 1_000_000);
    List<CompletableFuture<Void>> durable = new ArrayList<>();
    for (JournalEntry record : records) {
      String buildId = record.buildId();
      if (builds.containsKey(buildId)) {
        continue;
      }
      BuildStatus status = record.status();
      BuildEntry entry = new BuildEntry(record.request(), status.toBuilder(), clock, record.progressEpoch() + 1);
      entry.pins = record.pinnedImages();
      builds.put(buildId, entry);
      if (status.getState() != BuildState.RUNNING && status.getState() != BuildState.QUEUED) {
        entry.progress.append(BuildProgress.newBuilder().setBuild(status));
        entry.progress.close();
        continue;
      }
      try {
        // records written before plans were pinned have no pins: those builds resolve again
        BuildPlan plan = record.pinnedImages().isEmpty()
            ? planner.plan(buildId, record.request())
            : planner.replan(buildId, record.request(), record.pinnedImages());
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
        publishStatus(entry); // the first entry of the new epoch: where the build stands
        durable.add(recordAsync(entry)); // the new epoch, before any task of it goes out
        scheduler.resume(buildId, specs(plan, record.request().getNoCache()), recorded);
        resumed++;
        log.info("resumed build {} from the journal", buildId);
      } catch (PlanningException | RuntimeException | StackOverflowError e) {
        finishBuild(entry, BuildState.FAILED, "could not resume after a coordinator restart: " + describe(e), "");
      }
    }
    try {
      CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new))
          .get(settings.durableTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      log.warn("the records of resumed builds are not durable yet ({}); the outbox keeps trying", describe(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
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
    outbox.publish(
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
            programInputs));
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

  private CompletableFuture<Void> recordAsync(BuildEntry entry) {
    BuildStatus status = withStages(entry).build();
    return outbox.record(new JournalEntry(
        entry.buildId, entry.request, status, scheduler.results(entry.buildId), entry.pins, entry.progressEpoch));
  }

  /** What the outbox cannot do: fail the build of a task that can never be published; step down. */
  private final class OutboxListener implements Outbox.Listener {
    @Override
    public void refused(StageJob job, String message) {
      BuildEntry entry = builds.get(job.buildId());
      if (entry != null && scheduler.cancel(job.buildId())) {
        finishBuild(entry, BuildState.FAILED, "stage " + job.stageName() + " could not be handed to the workers: "
            + message, "");
      }
    }

    @Override
    public void fenced(String message) {
      fencedHandler.accept(message);
    }
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
    try {
      background.awaitTermination(5, TimeUnit.SECONDS);
      outbox.close(Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** For tests and diagnostics. */
  List<String> buildIds() {
    return new ArrayList<>(builds.keySet());
  }
}
