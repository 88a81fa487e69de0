package dev.stagefarm.coordinator;

import dev.stagefarm.oci.registry.RegistryCredentials;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.metrics.CoordinatorMetrics;
import dev.stagefarm.coordinator.trace.BuildTracing;
import dev.stagefarm.coordinator.outbox.Outbox;
import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.plan.BuildPlanner;
import dev.stagefarm.coordinator.plan.NoCacheFilter;
import dev.stagefarm.coordinator.plan.PlannedStage;
import dev.stagefarm.coordinator.plan.PlanningException;
import dev.stagefarm.coordinator.port.BuildJournal;
import dev.stagefarm.coordinator.port.CacheRecords;
import dev.stagefarm.coordinator.port.RemoteCache;
import dev.stagefarm.coordinator.port.ContentRoots;
import dev.stagefarm.coordinator.port.BuildSecretStore;
import dev.stagefarm.coordinator.port.JournalEntry;
import dev.stagefarm.coordinator.port.PinnedImage;
import dev.stagefarm.coordinator.port.ProgramRef;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.port.TaskQueue;
import dev.stagefarm.coordinator.port.WorkerControl;
import dev.stagefarm.coordinator.progress.ProgressLog;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.schedule.SchedulerListener;
import dev.stagefarm.coordinator.schedule.SchedulingPolicy;
import dev.stagefarm.coordinator.schedule.WorkerSlots;
import dev.stagefarm.coordinator.schedule.StageFailure;
import dev.stagefarm.coordinator.schedule.StageSnapshot;
import dev.stagefarm.coordinator.schedule.StageSpec;
import dev.stagefarm.coordinator.schedule.StageState;
import dev.stagefarm.coordinator.wire.EventMessages;
import dev.stagefarm.program.BuildSecrets;
import dev.stagefarm.program.ProgramInput;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.StageStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
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
import org.slf4j.MDC;

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
   * @param retention how long finished builds stay in memory and in the journal
   * @param progressLimits the bound of each build's progress log
   * @param durableTimeout how long SubmitBuild waits for the build's record to be durable before
   *     it refuses the build (UNAVAILABLE)
   * @param outbox the writer of tasks and records (retry backoff, backlog limit)
   */
  public record Settings(Scheduler.Settings scheduler, Duration leaseCheckInterval, Retention retention,
      ProgressLog.Limits progressLimits, Duration durableTimeout, Outbox.Settings outbox, SchedulingPolicy scheduling) {
    public static final Settings DEFAULT =
        new Settings(Scheduler.Settings.DEFAULT, Duration.ofSeconds(1));

    /** Default retention, progress limits and outbox. */
    public Settings(Scheduler.Settings scheduler, Duration leaseCheckInterval) {
      this(scheduler, leaseCheckInterval, Retention.DEFAULT, ProgressLog.Limits.DEFAULT, Duration.ofSeconds(15),
          Outbox.Settings.DEFAULT);
    }

    /** The default scheduling policy. */
    public Settings(Scheduler.Settings scheduler, Duration leaseCheckInterval, Retention retention,
        ProgressLog.Limits progressLimits, Duration durableTimeout, Outbox.Settings outbox) {
      this(scheduler, leaseCheckInterval, retention, progressLimits, durableTimeout, outbox, SchedulingPolicy.DEFAULT);
    }

    public Settings withScheduling(SchedulingPolicy scheduling) {
      return new Settings(scheduler, leaseCheckInterval, retention, progressLimits, durableTimeout, outbox, scheduling);
    }

    public Settings withRetention(Retention retention) {
      return new Settings(scheduler, leaseCheckInterval, retention, progressLimits, durableTimeout, outbox, scheduling);
    }

    public Settings withProgressLimits(ProgressLog.Limits limits) {
      return new Settings(scheduler, leaseCheckInterval, retention, limits, durableTimeout, outbox, scheduling);
    }

    public Settings withDurableTimeout(Duration timeout) {
      return new Settings(scheduler, leaseCheckInterval, retention, progressLimits, timeout, outbox, scheduling);
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
  private static final int MAX_WARNINGS = 32;
  private final Settings settings;
  private final WorkerControl control;
  private final BuildJournal journal;
  private final Outbox outbox;
  private volatile Consumer<String> fencedHandler = reason -> {};
  private volatile CoordinatorMetrics metrics = CoordinatorMetrics.none();
  private volatile BuildTracing tracing = BuildTracing.none();
  private volatile RemoteCache remoteCache = RemoteCache.NONE;
  private volatile long lastLeaseCheckNanos = System.nanoTime();
  private final BuildPlanner planner;
  private final ImageAssembler assembler;
  private final BuildSecretStore secrets;
  private final Scheduler scheduler;
  /** The live workers' slots: how many stages may be out at once. */
  private final WorkerSlots workerSlots;
  /** Tenants with their own metric tag (the first ones seen, up to the policy's bound). */
  private final java.util.Set<String> metricTenants = ConcurrentHashMap.newKeySet();
  /** Which platforms the workers run (their presence events). */
  private final WorkerPresence presence;
  private final Map<String, BuildEntry> builds = new ConcurrentHashMap<>();
  /** Finished builds whose details were evicted. */
  private final BuildSummaries summaries = new BuildSummaries();
  /** Held while a submission counts its owner's unfinished builds and registers the new one. */
  private final Object admission = new Object();
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
    volatile BuildPlan plan;
    /** The plan's stages by id, and its steps' texts, so a dispatch or an event finds them at once. */
    volatile PlanIndex index;
    /** The base images the plan pinned; a resume plans against these, never a tag. */
    Map<String, PinnedImage> pins = Map.of();
    BuildStatus.Builder status;
    final Map<String, StageResult> results = new LinkedHashMap<>();
    /**
     * Stages whose state changed since the build's last journal entry was computed (guarded by the
     * entry): the next entry carries only these, when the journal takes partial entries.
     */
    final java.util.Set<String> unrecordedStages = new java.util.LinkedHashSet<>();
    /**
     * The next journal entry carries every stage: the first of the build, and the first after the
     * scheduler took it (its held stages change without a stage event, and each needs a record).
     */
    boolean recordWholeNext = true;
    /** The records its --cache-from imported: this build's only, gone on a resume. */
    CacheRecords imported = key -> java.util.Optional.empty();

    final String buildId;
    final String owner;
    final String tenant;
    /** The client's registry credentials: in memory only, never journaled (empty after a take-over). */
    volatile Map<String, RegistryCredentials> registryCredentials = Map.of();

    BuildEntry(SubmitBuildRequest request, BuildStatus.Builder status, Clock clock, ProgressLog.Limits limits,
        long progressEpoch) {
      this.buildId = status.getBuildId();
      this.owner = status.getOwner();
      // records from before tenants: the owner was the unit of the per-client limit
      this.tenant = !status.getTenant().isEmpty() ? status.getTenant()
          : !owner.isEmpty() ? owner : SchedulingPolicy.DEFAULT_TENANT;
      this.request = request;
      this.status = status;
      this.progressEpoch = progressEpoch;
      this.progress = new ProgressLog(clock, limits, progressEpoch);
    }
  }

  public BuildCoordinator(
      Clock clock,
      Settings settings,
      TaskQueue tasks,
      BuildJournal journal,
      BuildPlanner planner,
      ImageAssembler assembler) {
    this(clock, settings, tasks, WorkerControl.NONE, journal, planner, assembler, BuildSecretStore.NONE);
  }

  /** @param secrets where the secrets a client sends wait, sealed, for the build's workers */
  public BuildCoordinator(
      Clock clock,
      Settings settings,
      TaskQueue tasks,
      BuildJournal journal,
      BuildPlanner planner,
      ImageAssembler assembler,
      BuildSecretStore secrets) {
    this(clock, settings, tasks, WorkerControl.NONE, journal, planner, assembler, secrets);
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
    this(clock, settings, tasks, control, journal, planner, assembler, BuildSecretStore.NONE);
  }

  /**
   * @param control tells the workers which builds ended and which attempts are current
   * @param secrets where the secrets a client sends wait, sealed, for the build's workers
   */
  public BuildCoordinator(
      Clock clock,
      Settings settings,
      TaskQueue tasks,
      WorkerControl control,
      BuildJournal journal,
      BuildPlanner planner,
      ImageAssembler assembler,
      BuildSecretStore secrets) {
    this.clock = clock;
    this.secrets = secrets;
    this.control = control;
    this.journal = journal;
    this.outbox = new Outbox(tasks, journal, settings.outbox(), new OutboxListener());
    this.planner = planner;
    this.assembler = assembler;
    this.settings = settings;
    this.scheduler = new Scheduler(clock, settings.scheduler(), this::dispatch, new Listener());
    this.workerSlots = new WorkerSlots(settings.scheduling().dispatchMargin(), settings.scheduling().unreportedCapacity());
    scheduler.setCapacity(workerSlots.capacity(clock.millis()));
    this.presence = new WorkerPresence(clock);
    long period = settings.leaseCheckInterval().toMillis();
    leaseTimer.scheduleAtFixedRate(this::checkLeases, period, period, TimeUnit.MILLISECONDS);
    long sweep = settings.retention().sweepInterval().toMillis();
    leaseTimer.scheduleAtFixedRate(this::sweepFinished, sweep, sweep, TimeUnit.MILLISECONDS);
  }

  // --- the API the gRPC service uses ----------------------------------------------------------

  /** Called (once, on the outbox thread) when another coordinator has fenced this one. */
  public void whenFenced(Consumer<String> handler) {
    this.fencedHandler = handler;
  }

  /** Where stage and build events are counted and timed from now on (docs/operations.md, "Metrics"). */
  public void reportTo(CoordinatorMetrics metrics) {
    this.metrics = metrics;
  }

  /** Where builds' and stages' spans go from now on (docs/operations.md, "Traces"). */
  public void traceTo(BuildTracing tracing) {
    this.tracing = tracing;
  }

  /** Where builds' --cache-from are read and --cache-to written (docs/cli.md, "Build cache"). */
  public void useRemoteCache(RemoteCache cache) {
    this.remoteCache = cache;
  }

  /** A warning in the build's status (at most {@link #MAX_WARNINGS}), shown by the client at its end. */
  private static void warn(BuildEntry entry, String warning) {
    synchronized (entry) {
      if (entry.status.getWarningsCount() < MAX_WARNINGS) {
        entry.status.addWarnings(warning.length() > 1000 ? warning.substring(0, 1000) + "…" : warning);
      }
    }
  }

  /** Stages of unfinished builds waiting for a worker and running on one. */
  public Scheduler.StageCounts stageCounts() {
    return scheduler.stageCounts();
  }

  /** Unfinished builds by state: QUEUED (being planned) and RUNNING. */
  public Map<BuildState, Integer> unfinishedBuilds() {
    Map<BuildState, Integer> counts = new java.util.EnumMap<>(BuildState.class);
    for (BuildEntry entry : builds.values()) {
      BuildState state;
      synchronized (entry) {
        state = entry.status.getState();
      }
      if (!finished(state)) {
        counts.merge(state, 1, Integer::sum);
      }
    }
    return counts;
  }

  /** Plans and starts a build without an owner (no limit). */
  public BuildStatus submit(SubmitBuildRequest request) {
    return submit(request, null, "", Integer.MAX_VALUE);
  }

  /** As {@link #submit(SubmitBuildRequest, ContextManifest, String, int)}; the planner reads the manifest. */
  public BuildStatus submit(SubmitBuildRequest request, String owner, int maxUnfinished) {
    return submit(request, null, owner, maxUnfinished);
  }

  /**
   * Plans and starts a build owned by {@code owner} (kept in its status and journal record), and
   * returns once its record is durable: an acknowledged build survives any coordinator's death.
   * Planning errors give a FAILED status with the error, not an exception.
   *
   * @param manifest the request's context manifest already read and validated (null: the planner
   *     reads it), so it is read once per build
   * @param maxUnfinished how many queued or running builds the owner may have, this one included
   * @throws BuildLimitExceededException when the owner already has {@code maxUnfinished}
   * @throws BuildNotAccepted when the record could not be made durable in time (the build does not
   *     run) or too many writes wait for Kafka already
   */
  public BuildStatus submit(SubmitBuildRequest submitted, ContextManifest manifest, String owner, int maxUnfinished) {
    // the owner is an authenticated identity here (or empty): it is the tenant
    return submit(submitted, manifest, owner, SchedulingPolicy.tenantOf(owner, submitted.getTenant()), maxUnfinished);
  }

  /**
   * As {@link #submit(SubmitBuildRequest, ContextManifest, String, int)} for a build of
   * {@code tenant} (docs/operations.md, "Scheduling"): {@code maxUnfinished} counts the tenant's
   * builds, and the tenant's held stages and the request's priority must be within the policy.
   *
   * @throws AdmissionRefused naming the limit or bound the build is over
   */
  public BuildStatus submit(SubmitBuildRequest submitted, ContextManifest manifest, String owner, String tenant,
      int maxUnfinished) {
    admit(tenant, submitted.getPriority());
    if (outbox.backlogged()) {
      throw new BuildNotAccepted("the coordinator cannot write to Kafka: " + outbox.queued()
          + " writes are waiting (last error: " + outbox.lastFailure() + "); try again later");
    }
    String buildId = newBuildId();
    // secret values stay out of the entry (and so the journal and the API): sealed in the store below
    BuildSecrets buildSecrets = ClientSecrets.of(submitted);
    // registry credentials too: the planner's pulls get them with the request, the push from the entry
    SubmitBuildRequest forPlanning = ClientSecrets.withoutValues(submitted);
    SubmitBuildRequest request = ClientSecrets.withoutRegistryCredentials(forPlanning);
    BuildEntry entry =
        new BuildEntry(
            request,
            BuildStatus.newBuilder()
                .setBuildId(buildId)
                .setState(BuildState.QUEUED)
                .setTarget(request.getTarget())
                .addAllTags(request.getTagsList())
                .setCreatedMs(clock.millis())
                .setOwner(owner)
                .setTenant(tenant)
                .setPriority(request.getPriority()),
            clock,
            settings.progressLimits(),
            0);
    entry.registryCredentials = ClientSecrets.registryCredentials(submitted);
    synchronized (admission) {
      long unfinished = builds.values().stream().filter(e -> e.tenant.equals(tenant) && !finished(e)).count();
      if (unfinished >= maxUnfinished) {
        throw new BuildLimitExceededException(tenant, maxUnfinished);
      }
      builds.put(buildId, entry);
    }
    tracing.buildSubmitted(buildId, tenant, request.getTarget(), entry.status.getCreatedMs());
    tracing.planningStarted(buildId);
    BuildStatus planned = plan(entry, forPlanning, manifest, buildSecrets);
    tracing.planningEnded(buildId, planned.getState());
    awaitDurable(entry);
    if (planned.getState() == BuildState.RUNNING) {
      scheduler.submit(buildId, specs(entry.plan, request), buildClass(entry));
      recordWholeNext(entry);
      failIfNoWorkerRuns(entry);
    }
    return status(buildId).orElseThrow();
  }

  /**
   * Refuses a build whose priority is out of the tenant's bounds, or whose tenant (or the farm)
   * already holds as many stages back as the policy allows: the backlog a submit rate can build in
   * the coordinator is bounded by these, the one on Kafka by the workers' slots.
   */
  private void admit(String tenant, int priority) {
    SchedulingPolicy policy = settings.scheduling();
    int maxPriority = policy.maxPriority(tenant);
    if (priority > maxPriority || priority < SchedulingPolicy.MIN_PRIORITY) {
      throw new AdmissionRefused(AdmissionRefused.Reason.NOT_ALLOWED, "--priority " + priority + " is out of tenant "
          + tenant + "'s range " + SchedulingPolicy.MIN_PRIORITY + ".." + maxPriority
          + " (coordinator settings max-priority, tenant-max-priority)");
    }
    Scheduler.Held held = scheduler.held(tenant);
    if (held.farm() >= policy.maxQueuedStages()) {
      throw new AdmissionRefused(AdmissionRefused.Reason.OVER_LIMIT, "the farm has " + held.farm()
          + " stages waiting for a worker slot: the limit max-queued-stages is " + policy.maxQueuedStages()
          + " (try again when the queue has drained)");
    }
    if (held.tenant() >= policy.maxQueuedStagesPerTenant()) {
      throw new AdmissionRefused(AdmissionRefused.Reason.OVER_LIMIT, "tenant " + tenant + " has " + held.tenant()
          + " stages waiting for a worker slot: the limit max-queued-stages-per-tenant is "
          + policy.maxQueuedStagesPerTenant() + " (wait for its builds to progress or cancel one)");
    }
  }

  private Scheduler.BuildClass buildClass(BuildEntry entry) {
    int priority;
    synchronized (entry) {
      priority = entry.status.getPriority();
    }
    return new Scheduler.BuildClass(entry.tenant, settings.scheduling().weight(entry.tenant), priority);
  }

  /** Where dispatch stands: held stages, released ones, capacity, per-tenant loads. */
  public Scheduler.DispatchState dispatchState() {
    return scheduler.dispatchState();
  }

  /** Released, unfinished stages per tenant metric tag (the tenants' current slot share). */
  public Map<String, Integer> tenantSlots() {
    Map<String, Integer> slots = new java.util.TreeMap<>();
    for (var load : scheduler.dispatchState().tenants()) {
      slots.merge(metricTenant(load.tenant()), load.inFlight(), Integer::sum);
    }
    return slots;
  }

  /** The live workers' slots as they reported them. */
  public WorkerSlots.Totals workerSlots() {
    return workerSlots.totals(clock.millis());
  }

  /** Plans the build: RUNNING with its plan, or FAILED with the planning error. */
  private BuildStatus plan(BuildEntry entry, SubmitBuildRequest request, ContextManifest manifest,
      BuildSecrets buildSecrets) {
    String buildId = entry.buildId;
    BuildPlan plan;
    BuildPlanner buildPlanner = planner;
    if (request.getCacheFromCount() > 0 && !request.getNoCache()) { // --no-cache uses no cache, imported or not
      CacheRecords imported = remoteCache.importFrom(request.getCacheFromList(), warning -> warn(entry, warning));
      entry.imported = imported;
      buildPlanner = planner.withImportedCache(imported);
    }
    try {
      plan = buildPlanner.plan(buildId, request, manifest);
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
      markInfrastructureFailure(entry);
      finishBuild(entry, BuildState.FAILED, "planning failed: " + describe(e), "");
      return status(buildId).orElseThrow();
    }
    if (!buildSecrets.isEmpty()) {
      try {
        secrets.store(buildId, buildSecrets);
      } catch (java.io.IOException | RuntimeException e) {
        log.warn("storing the secrets of build {} failed: {}", buildId, e.toString());
        markInfrastructureFailure(entry);
        finishBuild(entry, BuildState.FAILED, "storing the build's secrets failed: " + describe(e), "");
        return status(buildId).orElseThrow();
      }
    }
    synchronized (entry) {
      entry.index = new PlanIndex(plan); // before the plan: whoever sees the plan finds its index
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

  /** The build's status; a build evicted to its summary has no stages. */
  public Optional<BuildStatus> status(String buildId) {
    BuildEntry entry = builds.get(buildId);
    if (entry == null) {
      return summaries.get(buildId);
    }
    BuildStatus.Builder status = withStages(entry);
    scheduler.queuePlace(buildId).ifPresent(place -> status.setHeldStages(place.heldStages())
        .setQueuePosition(place.ahead()).setQueuedSinceMs(place.waitingSinceMs()));
    return Optional.of(status.build());
  }

  /** Every build the coordinator remembers (summaries included), oldest first. */
  public List<BuildStatus> list() {
    List<BuildStatus> all = new ArrayList<>(summaries.all());
    builds.keySet().stream().map(this::status).flatMap(Optional::stream).forEach(all::add);
    all.sort(BuildPage.ORDER);
    return all;
  }

  /** One page of {@link #list()}: the builds after {@code pageToken}, at most {@code pageSize}. */
  public BuildPage list(int pageSize, String pageToken) {
    return list(pageSize, pageToken, status -> true);
  }

  /** A page of the builds {@code visible} lets through (a client's own builds), oldest first. */
  public BuildPage list(int pageSize, String pageToken, java.util.function.Predicate<BuildStatus> visible) {
    return BuildPage.of(list().stream().filter(visible).toList(), pageSize, pageToken);
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

  /**
   * Fails every unfinished build as the farm's failure (as a stage no worker can run does): for a farm whose
   * workers could not start, e.g. the one-shot farm's, started when its first task came. Returns how many.
   */
  public int failUnfinishedBuilds(String reason) {
    int failed = 0;
    for (BuildEntry entry : builds.values()) {
      if (!finished(entry) && scheduler.cancel(entry.buildId)) {
        log.warn("build {}: {}", entry.buildId, reason);
        markInfrastructureFailure(entry);
        finishBuild(entry, BuildState.FAILED, reason, "");
        failed++;
      }
    }
    return failed;
  }

  /** Streams the build's progress after {@code afterSequence}; false when the build is unknown. */
  public boolean watch(String buildId, long afterSequence, ProgressLog.Watcher watcher) {
    BuildEntry entry = builds.get(buildId);
    if (entry == null) {
      Optional<BuildStatus> summary = summaries.get(buildId);
      if (summary.isEmpty()) {
        return false;
      }
      // its progress log is gone with its details: the final status is all there is to watch
      watcher.next(BuildProgress.newBuilder().setBuild(summary.get()).build());
      watcher.end();
      return true;
    }
    entry.progress.watch(afterSequence, watcher);
    return true;
  }

  /**
   * Up to {@code max} progress entries after {@code afterSequence}, for a watcher that pulls at its
   * own pace (gRPC flow control); empty when there are none yet or the build's details are gone.
   */
  public List<BuildProgress> progressAfter(String buildId, long afterSequence, int max) {
    BuildEntry entry = builds.get(buildId);
    return entry == null ? List.of() : entry.progress.after(afterSequence, max);
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

  /**
   * What the builds this coordinator remembers reach in the content store (for garbage
   * collection): in-flight and retained builds' context manifests, stage results and base images,
   * and the image of every build it still has a status or summary of.
   */
  public ContentRoots contentRoots() {
    java.util.Set<dev.stagefarm.oci.Digest> blobs = new java.util.HashSet<>();
    java.util.Set<dev.stagefarm.oci.Digest> images = new java.util.HashSet<>();
    java.util.Set<dev.stagefarm.oci.Digest> contexts = new java.util.HashSet<>();
    java.util.function.Consumer<StageResult> addLayers = r -> r.layers().forEach(l -> blobs.add(l.blob().digest()));
    for (BuildEntry entry : builds.values()) {
      BuildPlan plan;
      synchronized (entry) {
        addDigest(entry.status.getImageDigest(), images);
        addDigest(entry.request.getContextManifest(), contexts);
        entry.results.values().forEach(addLayers);
        plan = entry.plan;
      }
      scheduler.results(entry.buildId).values().forEach(addLayers);
      if (plan != null) {
        for (PlannedStage stage : plan.stages()) {
          stage.base().ifPresent(addLayers);
          stage.imageInputs().values().forEach(addLayers);
          stage.cachedResult().ifPresent(addLayers);
        }
      }
    }
    summaries.all().forEach(s -> addDigest(s.getImageDigest(), images));
    return new ContentRoots(blobs, images, contexts);
  }

  private static void addDigest(String digest, java.util.Set<dev.stagefarm.oci.Digest> into) {
    if (dev.stagefarm.oci.Digest.isValid(digest)) {
      into.add(dev.stagefarm.oci.Digest.parse(digest));
    }
  }

  // --- worker events -----------------------------------------------------------------------

  /** Applies one worker event (from the event topic). */
  public void onEvent(WorkerEvent event) {
    if (event.kind() instanceof WorkerEvent.Present present) {
      presence.seen(event.workerId(), present.platforms(), present.sentMs());
      workerSlots.report(event.workerId(), present.slots(), present.free(), present.intervalMs(), clock.millis());
      scheduler.setCapacity(workerSlots.capacity(clock.millis()));
      return;
    }
    BuildEntry entry = builds.get(event.buildId());
    if (entry == null) {
      return; // another coordinator's build, or one long gone
    }
    String buildId = event.buildId();
    String stageId = event.stageId();
    int attempt = event.attempt();
    String worker = event.workerId();
    MDC.put("buildId", buildId);
    MDC.put("stageId", stageId);
    MDC.put("attempt", Integer.toString(attempt));
    try {
      apply(event, entry, buildId, stageId, attempt, worker);
    } finally {
      MDC.remove("buildId");
      MDC.remove("stageId");
      MDC.remove("attempt");
    }
  }

  private void apply(WorkerEvent event, BuildEntry entry, String buildId, String stageId, int attempt, String worker) {
    switch (event.kind()) {
      case WorkerEvent.Started started ->
          scheduler.onStarted(buildId, stageId, attempt, worker, started.deliveryCount());
      case WorkerEvent.Heartbeat heartbeat -> scheduler.onHeartbeat(buildId, stageId, attempt, worker);
      case WorkerEvent.Present present -> {} // not about a build: onEvent takes it
      case WorkerEvent.Log log -> {
        if (scheduler.onHeartbeat(buildId, stageId, attempt, worker)) {
          entry.progress.append(BuildProgress.newBuilder().setLog(EventMessages.toProto(log)).setLogStageId(stageId)
              .setLogWorkerId(worker));
        }
      }
      case WorkerEvent.OpDone done -> {
        if (scheduler.onHeartbeat(buildId, stageId, attempt, worker)) {
          entry.progress.append(
              BuildProgress.newBuilder().setInstruction(EventMessages.toProto(done)).setLogStageId(stageId)
                  .setLogWorkerId(worker));
        }
      }
      case WorkerEvent.Completed completed -> {
        if (completed.unannounced()) {
          scheduler.onCompletedUnannounced(buildId, stageId, attempt, worker, completed.deliveryCount(),
              completed.unannouncedRunMs(), completed.result());
        } else {
          scheduler.onCompleted(buildId, stageId, attempt, completed.result());
        }
      }
      case WorkerEvent.Failed failed ->
          scheduler.onFailed(
              buildId,
              stageId,
              attempt,
              new StageFailure(FailureMessages.describe(dockerfileName(entry.request), failed), failed.retriable(),
                  failed.deadline()));
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
      if (finished(status.getState()) && expired(status)) {
        // finished longer ago than the retention (the coordinator was down meanwhile): evict now
        summaries.add(status);
        forgetAsync(buildId);
        deleteSecretsAsync(record.request(), buildId);
        continue;
      }
      BuildEntry entry = new BuildEntry(record.request(), status.toBuilder(), clock, settings.progressLimits(),
          record.progressEpoch() + 1);
      entry.pins = record.pinnedImages();
      builds.put(buildId, entry);
      if (status.getState() != BuildState.RUNNING && status.getState() != BuildState.QUEUED) {
        entry.progress.append(BuildProgress.newBuilder().setBuild(status));
        entry.progress.close();
        deleteSecretsAsync(entry.request, entry.buildId); // the coordinator may have stopped between finishing the build and deleting them
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
          entry.index = new PlanIndex(plan); // before the plan: whoever sees the plan finds its index
          entry.plan = plan;
          entry.results.putAll(record.stageResults());
        }
        publishStatus(entry); // the first entry of the new epoch: where the build stands
        durable.add(recordAsync(entry)); // the new epoch, before any task of it goes out
        scheduler.resume(buildId, specs(plan, record.request()), recorded, status.getCreatedMs(), buildClass(entry));
        synchronized (entry) {
          entry.status.clearStages(); // the scheduler has them now: a status or record copies no stale list
        }
        recordWholeNext(entry);
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

  private static boolean finished(BuildEntry entry) {
    synchronized (entry) {
      BuildState state = entry.status.getState();
      return state != BuildState.QUEUED && state != BuildState.RUNNING;
    }
  }

  private static List<StageSpec> specs(BuildPlan plan, SubmitBuildRequest request) {
    return plan.stages().stream()
        .map(
            s -> {
              // --no-cache, --no-cache-filter: neither cached nor shared with another build's run of it
              boolean noCache = NoCacheFilter.skipsCache(request, s);
              return new StageSpec(
                  s.id(),
                  s.name(),
                  s.dependsOn(),
                  noCache ? "" : s.chainKey().hex(),
                  Math.max(1, s.program().ops().size()),
                  noCache ? Optional.empty() : s.cachedResult());
            })
        .toList();
  }

  /** Builds and publishes the task of a ready stage (called by the scheduler). */
  private void dispatch(String buildId, String stageId, int attempt, Map<String, StageResult> inputs) {
    BuildEntry entry = builds.get(buildId);
    PlannedStage stage = entry.index.stage(stageId);
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
    outbox.publish(tracing.dispatched(
        new StageJob(
            buildId,
            stageId,
            stage.name(),
            attempt,
            // a stage that is not cached as a whole may still hit on its first ops: the worker
            // takes their recorded layers instead of running them (never for --no-cache)
            !NoCacheFilter.skipsCache(entry.request, stage),
            new ProgramRef.Inline(stage.program()),
            base,
            programInputs,
            ClientSecrets.sent(entry.request),
            deadline,
            // layers that only feed other stages are stored uncompressed (BuildKit never compresses them)
            !entry.index.layersReachTarget(stageId),
            // cache mounts are the owner's: another client's same id is another directory
            entry.owner), entry.tenant));
  }

  private final class Listener implements SchedulerListener {
    @Override
    public void stageChanged(StageSnapshot stage) {
      BuildEntry entry = builds.get(stage.buildId());
      if (entry == null) {
        return;
      }
      if (stage.state().finished()) {
        metrics.stageFinished(stage.state());
      }
      tracing.stageChanged(stage, entry.tenant);
      synchronized (entry) {
        entry.unrecordedStages.add(stage.stageId());
      }
      entry.progress.append(BuildProgress.newBuilder().setStage(withSteps(entry, toProto(stage))));
      // attempts must be durable: a resumed stage's next attempt outnumbers any still out there
      if (stage.state().finished() || stage.state() == StageState.QUEUED) {
        recordAsync(entry);
      }
    }

    @Override
    public void stageStarted(StageSnapshot stage, long waitedMs) {
      metrics.stageStarted(waitedMs);
    }

    @Override
    public void tenantStageStarted(String tenant, long waitedMs) {
      metrics.tenantStageStarted(metricTenant(tenant), waitedMs);
    }

    @Override
    public void stageRan(StageSnapshot stage, long ranMs, boolean succeeded) {
      metrics.stageRan(ranMs, succeeded);
      BuildEntry entry = builds.get(stage.buildId());
      if (entry != null) {
        metrics.tenantSlotTime(metricTenant(entry.tenant), ranMs);
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

    @Override
    public void buildFailedByFarm(String buildId, String error) {
      markInfrastructureFailure(builds.get(buildId));
      buildFailed(buildId, error);
    }
  }

  private void assemble(BuildEntry entry, Map<String, StageResult> results) {
    BuildPlan plan = entry.plan;
    boolean push = entry.request.getOutputsList().stream().anyMatch(o -> o.getType().equals("registry"));
    try {
      ImageAssembler.Assembled image = assembler.assemble(results.get(plan.targetStageId()),
          new ImageAssembler.Request(entry.request.getTagsList(), push, entry.request.getLabelsMap(),
              entry.request.getAnnotationsMap(), entry.registryCredentials));
      synchronized (entry) {
        entry.status.setImageConfigDigest(image.configDigest());
      }
      if (entry.request.getCacheToCount() > 0) {
        remoteCache.exportTo(entry.request.getCacheToList(), plan, entry.imported, warning -> warn(entry, warning));
      }
      finishBuild(entry, BuildState.SUCCEEDED, "", image.manifestDigest());
    } catch (Exception e) {
      log.warn("assembling build {} failed", plan.buildId(), e);
      markInfrastructureFailure(entry); // storage or registry trouble, not the Dockerfile's
      finishBuild(entry, BuildState.FAILED, describe(e), "");
    }
  }

  /** The build fails because of the farm, not its Dockerfile: the client exits 3 instead of 1. */
  private static void markInfrastructureFailure(BuildEntry entry) {
    synchronized (entry) {
      entry.status.setInfrastructureFailure(true);
    }
  }

  private void finishBuild(BuildEntry entry, BuildState state, String error, String digest) {
    synchronized (entry) {
      if (finished(entry.status.getState())) {
        return;
      }
      entry.status.setState(state).setError(error).setImageDigest(digest).setFinishedMs(clock.millis());
    }
    metrics.buildFinished(state);
    tracing.buildFinished(entry.buildId, state);
    // workers kill what still runs of it and drop its queued tasks (stale attempts included)
    control.buildEnded(entry.buildId, state == BuildState.FAILED ? "failed: " + error
        : state.name().toLowerCase(java.util.Locale.ROOT));
    publishStatus(entry);
    recordAsync(entry);
    entry.progress.close();
    // the scheduler's part of a finished build is not needed again: keep its stages' last states
    // and results in the entry (its record may be written after the scheduler forgot it) and let
    // the scheduler forget it
    BuildStatus last = withStages(entry).build();
    Map<String, StageResult> lastResults = scheduler.results(entry.buildId);
    synchronized (entry) {
      entry.status.clearStages().addAllStages(last.getStagesList());
      lastResults.forEach(entry.results::putIfAbsent);
    }
    scheduler.forget(entry.buildId);
    deleteSecretsAsync(entry.request, entry.buildId);
  }

  private static boolean finished(BuildState state) {
    return state == BuildState.SUCCEEDED || state == BuildState.FAILED || state == BuildState.CANCELLED;
  }

  private boolean expired(BuildStatus status) {
    return status.getFinishedMs() + settings.retention().details().toMillis() <= clock.millis();
  }

  /**
   * Evicts finished builds past their retention: each becomes a summary, its scheduler state and
   * progress log go, and its journal record is tombstoned so a restart does not replay it.
   * Called periodically; public so that tests and benchmarks can sweep at a time they choose.
   */
  public void sweepFinished() {
    try {
      List<BuildStatus> expired = new ArrayList<>();
      for (BuildEntry entry : builds.values()) {
        synchronized (entry) {
          if (finished(entry.status.getState()) && expired(entry.status.build())) {
            expired.add(entry.status.build());
          }
        }
      }
      // oldest first, so that summaries over the count go in the order the builds finished
      expired.sort(java.util.Comparator.comparingLong(BuildStatus::getFinishedMs));
      for (BuildStatus status : expired) {
        String buildId = status.getBuildId();
        summaries.add(status);
        builds.remove(buildId);
        scheduler.forget(buildId);
        forgetAsync(buildId);
      }
      summaries.expire(clock.millis(), settings.retention());
    } catch (RuntimeException e) {
      log.error("evicting finished builds failed", e);
    }
  }

  /** Removes a finished build's sealed secrets; best effort (docs/security.md, "Build secrets"). */
  private void deleteSecretsAsync(SubmitBuildRequest request, String buildId) {
    if (!ClientSecrets.sent(request)) {
      return;
    }
    try {
      background.execute(() -> {
        try {
          secrets.delete(buildId);
        } catch (java.io.IOException | RuntimeException e) {
          log.warn("deleting the secrets of build {} failed (they stay sealed): {}", buildId, e.toString());
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      log.warn("the coordinator is stopping: the secrets of build {} stay sealed in the store", buildId);
    }
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
    // where it waits is for the API (status, ls), not for records: a resumed build queues anew
    status.clearHeldStages().clearQueuePosition().clearQueuedSinceMs();
    return status;
  }

  /**
   * Queues the build's record, computed when the outbox writes it (so at least as new as now): a
   * build whose stages change many times between two writes is serialized once per write.
   */
  private CompletableFuture<Void> recordAsync(BuildEntry entry) {
    return outbox.record(entry.buildId, () -> journalEntry(entry));
  }

  /** The build's next journal entry carries all its stages (it was just handed to the scheduler). */
  private static void recordWholeNext(BuildEntry entry) {
    synchronized (entry) {
      entry.recordWholeNext = true;
    }
  }

  /**
   * The build's journal entry as it stands: only the stages that changed since the last one, when
   * the journal takes partial entries and the scheduler holds the build; else every stage.
   */
  private JournalEntry journalEntry(BuildEntry entry) {
    if (journal.takesPartialEntries()) {
      Optional<JournalEntry> partial = partialEntry(entry);
      if (partial.isPresent()) {
        return partial.get();
      }
    }
    synchronized (entry) {
      // before the snapshot: a stage that changes after it is taken is in the next entry again
      entry.unrecordedStages.clear();
      entry.recordWholeNext = false;
    }
    BuildStatus status = withStages(entry).build();
    Map<String, StageResult> results = scheduler.results(entry.buildId);
    if (results.isEmpty()) {
      synchronized (entry) {
        results = new LinkedHashMap<>(entry.results); // a finished build the scheduler forgot
      }
    }
    return new JournalEntry(entry.buildId, entry.request, status, results, entry.pins, entry.progressEpoch);
  }

  /**
   * The stages that changed since the build's last entry, as the scheduler has them now: O(changed),
   * where a whole entry of a 10,000-stage build snapshots every stage (issue 12, session 8's
   * profile: a fifth of the outbox thread). Empty when a whole entry is due.
   */
  private Optional<JournalEntry> partialEntry(BuildEntry entry) {
    List<String> changed;
    BuildStatus.Builder status;
    synchronized (entry) {
      if (entry.recordWholeNext) {
        return Optional.empty();
      }
      changed = List.copyOf(entry.unrecordedStages);
      entry.unrecordedStages.clear(); // before the snapshot: a later change is in the next entry
      status = entry.status.clone();
    }
    Optional<List<Scheduler.StageEntry>> stages = scheduler.stages(entry.buildId, changed);
    if (stages.isEmpty()) {
      return Optional.empty(); // the scheduler forgot the finished build: its entry holds every stage
    }
    status.clearStages().clearHeldStages().clearQueuePosition().clearQueuedSinceMs();
    Map<String, StageResult> results = new LinkedHashMap<>();
    Map<String, Integer> order = new HashMap<>();
    for (Scheduler.StageEntry stage : stages.get()) {
      String stageId = stage.snapshot().stageId();
      status.addStages(toProto(stage.snapshot()));
      order.put(stageId, stage.order());
      if (stage.result() != null) {
        results.put(stageId, stage.result());
      }
    }
    return Optional.of(new JournalEntry(entry.buildId, entry.request, status.build(), results, entry.pins,
        entry.progressEpoch, new JournalEntry.StageChanges(scheduler.stageCount(entry.buildId), order)));
  }

  /** What the outbox cannot do: fail the build of a task that can never be published; step down. */
  private final class OutboxListener implements Outbox.Listener {
    @Override
    public void refused(StageJob job, String message) {
      BuildEntry entry = builds.get(job.buildId());
      if (entry != null && scheduler.cancel(job.buildId())) {
        markInfrastructureFailure(entry);
        finishBuild(entry, BuildState.FAILED, "stage " + job.stageName() + " could not be handed to the workers: "
            + message, "");
      }
    }

    @Override
    public void fenced(String message) {
      fencedHandler.accept(message);
    }
  }

  /**
   * The tenant's metric tag: its name for the first {@code metrics-max-tenants} tenants seen, else
   * "other" (a tag per tenant would let anyone with a --tenant flag grow the metrics without bound).
   */
  public String metricTenant(String tenant) {
    if (metricTenants.contains(tenant)) {
      return tenant;
    }
    synchronized (metricTenants) {
      if (metricTenants.size() < settings.scheduling().metricTenants()) {
        metricTenants.add(tenant);
        return tenant;
      }
    }
    return "other";
  }

  /** How long ago the periodic lease check last ran (it holds the scheduler's lock: a stuck scheduler stops it). */
  public Duration sinceLastLeaseCheck() {
    return Duration.ofNanos(System.nanoTime() - lastLeaseCheckNanos);
  }

  private void checkLeases() {
    lastLeaseCheckNanos = System.nanoTime();
    try {
      scheduler.setCapacity(workerSlots.capacity(clock.millis())); // workers that stopped reporting are gone
      scheduler.checkLeases();
      builds.values().forEach(this::failIfNoWorkerRuns);
    } catch (RuntimeException e) {
      log.error("lease check failed", e);
    }
  }

  /**
   * Fails the build at once (a farm failure) when a queued stage has a platform no worker runs
   * ({@link WorkerPresence}), rather than after the queue lease.
   */
  private void failIfNoWorkerRuns(BuildEntry entry) {
    BuildPlan plan = entry.plan;
    if (plan == null || finished(entry)) {
      return;
    }
    // a build's few platforms first: when workers run them all, its (maybe 10,000) stages need no look
    if (entry.index.platforms().stream().allMatch(p -> presence.noWorkerFor(p).isEmpty())) {
      return;
    }
    for (var stage : scheduler.snapshot(entry.buildId)) {
      if (stage.state() != dev.stagefarm.coordinator.schedule.StageState.QUEUED) {
        continue;
      }
      Optional<String> why = Optional.ofNullable(entry.index.stageOrNull(stage.stageId()))
          .flatMap(s -> presence.noWorkerFor(s.program().platform()));
      if (why.isPresent() && scheduler.cancel(entry.buildId)) {
        log.warn("build {}: stage {}: {}", entry.buildId, stage.name(), why.get());
        markInfrastructureFailure(entry);
        finishBuild(entry, BuildState.FAILED, "stage " + stage.name() + ": " + why.get(), "");
        return;
      }
    }
  }

  /** Longest step text a progress entry carries: a RUN with a long heredoc is cut, not sent whole. */
  private static final int STEP_TEXT_LIMIT = 200;

  /** The stage's status with its steps' Dockerfile text, for progress views ("#3 [build 2/4] RUN make"). */
  private static StageStatus withSteps(BuildEntry entry, StageStatus stage) {
    PlanIndex index = entry.index;
    List<String> steps = index == null ? null : index.steps(stage.getStageId());
    return steps == null ? stage : stage.toBuilder().addAllSteps(steps).build();
  }

  /** A plan's stages by id, the stages whose layers reach the target, and each stage's step texts. */
  private static final class PlanIndex {
    private final Map<String, PlannedStage> stages = new HashMap<>();
    private final java.util.Set<String> reachTarget = new java.util.HashSet<>();
    private final Map<String, List<String>> steps = new ConcurrentHashMap<>();
    private final java.util.Set<dev.stagefarm.oci.Platform> platforms = new java.util.HashSet<>();

    PlanIndex(BuildPlan plan) {
      plan.stages().forEach(s -> stages.put(s.id(), s));
      plan.stages().forEach(s -> platforms.add(s.program().platform()));
      // as BuildPlan.layersReachTarget: the target and the stages it is built on, transitively
      String current = plan.targetStageId();
      while (current != null && reachTarget.add(current) && stages.containsKey(current)) {
        current = stages.get(current).baseStageId().orElse(null);
      }
    }

    PlannedStage stage(String id) {
      PlannedStage stage = stages.get(id);
      if (stage == null) {
        throw new IllegalArgumentException("no stage " + id + " in the build's plan");
      }
      return stage;
    }

    PlannedStage stageOrNull(String id) {
      return stages.get(id);
    }

    /** The platforms the plan's stages run on. */
    java.util.Set<dev.stagefarm.oci.Platform> platforms() {
      return platforms;
    }

    boolean layersReachTarget(String id) {
      return reachTarget.contains(id);
    }

    /** The stage's step texts (first line, at most {@link #STEP_TEXT_LIMIT} characters), or null for an unknown stage. */
    List<String> steps(String id) {
      PlannedStage planned = stages.get(id);
      if (planned == null) {
        return null;
      }
      return steps.computeIfAbsent(id, k -> planned.program().ops().stream().map(op -> {
        String text = op.source().text().strip();
        int newline = text.indexOf('\n');
        if (newline >= 0) {
          text = text.substring(0, newline) + " …";
        }
        return text.length() > STEP_TEXT_LIMIT ? text.substring(0, STEP_TEXT_LIMIT) + "…" : text;
      }).toList());
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

  /** For tests and diagnostics: the builds held with their details. */
  List<String> buildIds() {
    return new ArrayList<>(builds.keySet());
  }

  /** For tests: waits until the writes queued so far (records, tombstones, tasks) are done. */
  void flushJournal() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (outbox.queued() > 0) {
      if (System.nanoTime() > deadline) {
        throw new TimeoutException(outbox.queued() + " writes still queued: " + outbox.lastFailure());
      }
      Thread.sleep(5);
    }
  }

  /** Tombstones the build's journal record, after every record of it queued before. */
  private void forgetAsync(String buildId) {
    outbox.forget(buildId);
  }

  /** For tests and diagnostics: builds held as summaries. */
  int summaryCount() {
    return summaries.size();
  }

  /** For tests and diagnostics: builds the scheduler still holds. */
  int scheduledBuilds() {
    return scheduler.buildCount();
  }
}
