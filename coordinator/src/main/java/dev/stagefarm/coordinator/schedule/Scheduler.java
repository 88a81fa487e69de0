package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.coordinator.content.StageResult;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The farm-wide stage scheduler: one DAG state machine per build, leases on running stages,
 * bounded retries, and single flight across builds.
 *
 * <p>It holds no I/O: ready stages go to a {@link TaskDispatcher}, state changes to a {@link
 * SchedulerListener}, and time comes from the injected {@link Clock} ({@link #checkLeases()} is
 * called periodically by the owner). All methods are synchronized; events from workers may
 * arrive on any thread.
 *
 * <p>Single flight: a stage's {@link StageSpec#chainKey()} names its whole input chain, so when a
 * second build reaches a stage whose key is already queued or running elsewhere, it waits for
 * that one (the leader) and takes its result instead of running it again.
 */
public final class Scheduler {

  /**
   * Tunables; defaults suit a real farm, tests shorten them.
   *
   * @param leaseTimeout a running stage without an event for this long is lost (next attempt)
   * @param maxAttempts lost runs of a stage (dead workers, faults, tasks nobody took) before its
   *     build fails
   * @param queueLease a published task that no worker starts within this is published again
   * @param stageDeadline how long one run of a stage may take (the worker kills it after that)
   * @param buildDeadline how long a build may take from its submission
   */
  public record Settings(Duration leaseTimeout, int maxAttempts, Duration queueLease, Duration stageDeadline,
      Duration buildDeadline) {
    public static final Duration DEFAULT_QUEUE_LEASE = Duration.ofMinutes(15);
    public static final Duration DEFAULT_STAGE_DEADLINE = Duration.ofHours(1);
    public static final Duration DEFAULT_BUILD_DEADLINE = Duration.ofHours(3);
    public static final Settings DEFAULT = new Settings(Duration.ofSeconds(30), 3);

    public Settings {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1");
      }
      for (Duration d : List.of(leaseTimeout, queueLease, stageDeadline, buildDeadline)) {
        if (!d.isPositive()) {
          throw new IllegalArgumentException("scheduler durations must be positive: " + d);
        }
      }
    }

    /** The default queue lease and deadlines. */
    public Settings(Duration leaseTimeout, int maxAttempts) {
      this(leaseTimeout, maxAttempts, DEFAULT_QUEUE_LEASE, DEFAULT_STAGE_DEADLINE, DEFAULT_BUILD_DEADLINE);
    }

    public Settings withQueueLease(Duration lease) {
      return new Settings(leaseTimeout, maxAttempts, lease, stageDeadline, buildDeadline);
    }

    public Settings withDeadlines(Duration stage, Duration build) {
      return new Settings(leaseTimeout, maxAttempts, queueLease, stage, build);
    }
  }

  private final Clock clock;
  private final Settings settings;
  private final TaskDispatcher dispatcher;
  private final SchedulerListener listener;
  private final Map<String, BuildRun> builds = new LinkedHashMap<>();
  /** chain key → the stages running it: the first is the leader, the rest follow it. */
  private final Map<String, Deque<StageRun>> flights = new HashMap<>();
  /** Ready stages the coordinator holds back until a worker slot is free (docs/operations.md). */
  private final FairQueue<StageRun> ready = new FairQueue<>();
  /** How many released stages may be unfinished at once: the workers' slots plus a margin. */
  private int capacity = Integer.MAX_VALUE;
  private boolean pumping;

  public Scheduler(
      Clock clock, Settings settings, TaskDispatcher dispatcher, SchedulerListener listener) {
    this.clock = clock;
    this.settings = settings;
    this.dispatcher = dispatcher;
    this.listener = listener;
  }

  /**
   * Who a build belongs to and how urgent it is: its stages queue under {@code tenant}, whose share
   * of the busy slots is {@code weight}; a higher {@code priority} goes first.
   */
  public record BuildClass(String tenant, int weight, int priority) {
    public static final BuildClass DEFAULT = new BuildClass("", 1, 0);

    public BuildClass {
      java.util.Objects.requireNonNull(tenant, "tenant");
      if (weight < 1) {
        throw new IllegalArgumentException("weight must be >= 1: " + weight);
      }
    }
  }

  /** The per-build part: stages by id and their critical-path lengths. */
  private static final class BuildRun {
    final String buildId;
    BuildClass cls = BuildClass.DEFAULT;
    long submittedMs;
    final Map<String, StageRun> stages = new LinkedHashMap<>();
    final Map<String, Integer> remainingPath;
    /** When the build fails for taking too long (epoch ms). */
    final long deadlineMs;
    boolean finished;
    /** Stage id → the stages that depend on it; unmet dependencies per stage; stages with none left. */
    final Map<String, List<StageRun>> dependents = new HashMap<>();
    final Map<String, Integer> unmet = new HashMap<>();
    final java.util.Set<StageRun> candidates = new java.util.LinkedHashSet<>();
    /** Stages done or cached: the build's stages are all done when it reaches their count. */
    int succeeded;
    /** Stages held in the fair queue, oldest first: a status counts them without a walk of the build. */
    final java.util.Set<StageRun> held = new java.util.LinkedHashSet<>();

    BuildRun(String buildId, List<StageSpec> specs, long deadlineMs) {
      this.buildId = buildId;
      this.deadlineMs = deadlineMs;
      this.remainingPath = CriticalPath.remainingPaths(specs);
      for (StageSpec spec : specs) {
        stages.put(spec.id(), new StageRun(buildId, spec, stages.size()));
      }
      // kept as stages succeed, so that an event costs the stage's dependents, not a scan of the build
      for (StageRun stage : stages.values()) {
        java.util.Set<String> deps = new java.util.LinkedHashSet<>(stage.spec.dependsOn());
        unmet.put(stage.id(), deps.size());
        deps.forEach(d -> dependents.computeIfAbsent(d, k -> new ArrayList<>()).add(stage));
        if (deps.isEmpty()) {
          candidates.add(stage);
        }
      }
    }

    /** A stage succeeded: its dependents with nothing else to wait for become candidates. */
    void succeeded(StageRun stage) {
      succeeded++;
      for (StageRun dependent : dependents.getOrDefault(stage.id(), List.of())) {
        if (unmet.merge(dependent.id(), -1, Integer::sum) == 0) {
          candidates.add(dependent);
        }
      }
    }
  }

  /** How a stage stood when the coordinator last recorded it (for resuming after a restart). */
  public record RecordedStage(StageState state, int attempt, Optional<StageResult> result) {}

  /**
   * Starts scheduling a build: stages with a cached result complete at once, the stages whose
   * inputs are complete are dispatched in critical-path order.
   *
   * @throws IllegalArgumentException for unknown dependencies, cycles or a reused build id
   */
  public synchronized void submit(String buildId, List<StageSpec> stages) {
    resume(buildId, stages, Map.of());
  }

  /** As {@link #submit(String, List)} for a build of {@code cls}'s tenant and priority. */
  public synchronized void submit(String buildId, List<StageSpec> stages, BuildClass cls) {
    resume(buildId, stages, Map.of(), clock.millis(), cls);
  }

  /**
   * Re-creates a build after a coordinator restart: recorded successful stages keep their results;
   * stages that were queued or running are dispatched again with their attempt + 1.
   */
  public synchronized void resume(
      String buildId, List<StageSpec> stages, Map<String, RecordedStage> recorded) {
    resume(buildId, stages, recorded, clock.millis());
  }

  /**
   * As {@link #resume(String, List, Map)} for a build submitted at {@code submittedMs}: its
   * deadline counts from then.
   */
  public synchronized void resume(
      String buildId, List<StageSpec> stages, Map<String, RecordedStage> recorded, long submittedMs) {
    resume(buildId, stages, recorded, submittedMs, BuildClass.DEFAULT);
  }

  /**
   * As {@link #resume(String, List, Map, long)} for a build of {@code cls}. Stages that were out
   * (queued on the task topic or running: attempt 1 or more) go out again at once, holding a slot
   * as they did; stages the previous coordinator held back (attempt 0) queue again by the policy.
   */
  public synchronized void resume(String buildId, List<StageSpec> stages, Map<String, RecordedStage> recorded,
      long submittedMs, BuildClass cls) {
    if (builds.containsKey(buildId)) {
      throw new IllegalArgumentException("build " + buildId + " is already scheduled");
    }
    BuildRun build = new BuildRun(buildId, stages, submittedMs + settings.buildDeadline().toMillis());
    build.cls = cls;
    build.submittedMs = submittedMs;
    builds.put(buildId, build);
    long now = clock.millis();
    for (StageRun stage : build.stages.values()) {
      RecordedStage record = recorded.get(stage.id());
      if (record != null) {
        stage.attempt = record.attempt();
        if (record.state().succeeded() && record.result().isPresent()) {
          finish(stage, record.state(), record.result().get(), now);
          continue;
        }
        stage.wasOut = record.attempt() > 0
            && (record.state() == StageState.QUEUED || record.state() == StageState.RUNNING);
      }
      if (stage.spec.cachedResult().isPresent()) {
        finish(stage, StageState.CACHED, stage.spec.cachedResult().get(), now);
      }
    }
    advance(build);
    pump();
  }

  /** A worker picked up the stage. Returns false when the event is stale and was ignored. */
  public synchronized boolean onStarted(
      String buildId, String stageId, int attempt, String workerId) {
    return onStarted(buildId, stageId, attempt, workerId, 1);
  }

  /**
   * A worker picked up the stage; {@code deliveryCount} is how often Kafka handed out the task
   * record. A start of a running attempt with a higher count means the run before it was lost
   * (its worker died): that counts against {@code maxAttempts}, so a stage that kills every
   * worker it lands on fails its build instead of taking workers down in a loop.
   */
  public synchronized boolean onStarted(
      String buildId, String stageId, int attempt, String workerId, int deliveryCount) {
    StageRun stage = current(buildId, stageId, attempt);
    if (stage == null) {
      return false;
    }
    if (stage.state == StageState.RUNNING && deliveryCount > stage.delivery) {
      stage.redeliveries++;
      String lost = "worker " + (stage.workerId.isEmpty() ? "(unknown)" : stage.workerId)
          + " stopped without reporting (the task was delivered again)";
      stage.lastError = lost;
      if (lostRuns(stage) >= settings.maxAttempts()) {
        failWithFollowers(stage, poisonMessage(stage, lostRuns(stage), lost), true);
        pump();
        return false;
      }
      stage.runStartedMs = clock.millis();
    }
    stage.delivery = Math.max(stage.delivery, deliveryCount);
    boolean movedWorker = stage.state == StageState.RUNNING && !workerId.isEmpty() && !workerId.equals(stage.workerId);
    stage.workerId = workerId;
    if (!workerId.isEmpty()) {
      stage.workersTried.add(workerId);
    }
    long queuedSinceMs = stage.lastSeenMs; // while queued, only a dispatch sets it
    stage.lastSeenMs = clock.millis();
    if (stage.state == StageState.QUEUED) {
      markRunning(stage, stage.lastSeenMs, queuedSinceMs, true);
    } else if (movedWorker) {
      // Kafka handed the task to another worker (the first one's record lease ran out): say where it runs now
      listener.stageChanged(stage.snapshot());
    }
    return true;
  }

  /**
   * A queued stage runs since {@code startedMs}: its start's metrics, and its RUNNING status when
   * {@code announce} (a completion that comes alone goes from QUEUED to DONE in the status).
   */
  private void markRunning(StageRun stage, long startedMs, long queuedSinceMs, boolean announce) {
    stage.state = StageState.RUNNING;
    stage.startedMs = startedMs;
    stage.runStartedMs = startedMs;
    if (announce) {
      listener.stageChanged(stage.snapshot());
    }
    listener.stageStarted(stage.snapshot(), Math.max(0, startedMs - queuedSinceMs));
    if (stage.readyMs > 0) {
      listener.tenantStageStarted(builds.get(stage.buildId).cls.tenant(), Math.max(0, startedMs - stage.readyMs));
      stage.readyMs = 0;
    }
  }

  /**
   * A worker completed an attempt for which it published no {@code started} (the stage ended within
   * the worker's start delay: docs/protocol.md, "One event for a stage that ends at once"). A queued
   * stage is taken as started {@code ranMs} before now by {@code workerId} (its start and run
   * metrics, the worker named in its status) without a RUNNING status of its own; then it completes
   * as {@link #onCompleted} does.
   */
  public synchronized boolean onCompletedUnannounced(String buildId, String stageId, int attempt, String workerId,
      int deliveryCount, long ranMs, StageResult result) {
    StageRun stage = current(buildId, stageId, attempt);
    if (stage == null) {
      return false;
    }
    if (stage.state == StageState.QUEUED) {
      long now = clock.millis();
      stage.delivery = Math.max(stage.delivery, deliveryCount);
      stage.workerId = workerId;
      if (!workerId.isEmpty()) {
        stage.workersTried.add(workerId);
      }
      long queuedSinceMs = stage.lastSeenMs;
      stage.lastSeenMs = now;
      markRunning(stage, Math.max(queuedSinceMs, now - Math.max(0, ranMs)), queuedSinceMs, false);
    }
    return onCompleted(buildId, stageId, attempt, result);
  }

  /**
   * The stage's task could not be handed to the workers at all (e.g. Kafka refused the record as
   * too large): fails the build with {@code message}, unless the attempt is stale.
   */
  public synchronized boolean onPublishFailed(String buildId, String stageId, int attempt, String message) {
    StageRun stage = current(buildId, stageId, attempt);
    if (stage == null) {
      return false;
    }
    failWithFollowers(stage, message, true);
    pump();
    return true;
  }

  /**
   * The worker running the stage is alive; renews its lease. A sign of life from a worker the task
   * has since moved away from (its record lock ran out and another worker's start was seen) keeps
   * the attempt alive but does not name that worker as the stage's again: the late output of a run
   * that lost its lease must not hide where the stage runs now.
   */
  public synchronized boolean onHeartbeat(
      String buildId, String stageId, int attempt, String workerId) {
    StageRun stage = current(buildId, stageId, attempt);
    if (stage == null) {
      return false;
    }
    if (stage.state == StageState.RUNNING && !workerId.isEmpty() && stage.workersTried.contains(workerId)
        && !workerId.equals(stage.workerId)) {
      stage.lastSeenMs = clock.millis();
      return true;
    }
    return onStarted(buildId, stageId, attempt, workerId, Math.max(1, stage.delivery));
  }

  /** The stage's attempt finished with this result (the full image state of the stage). */
  public synchronized boolean onCompleted(
      String buildId, String stageId, int attempt, StageResult result) {
    StageRun stage = current(buildId, stageId, attempt);
    if (stage == null) {
      return false;
    }
    long now = clock.millis();
    reportRun(stage, now, true);
    finish(stage, StageState.DONE, result, now);
    List<BuildRun> touched = new ArrayList<>();
    touched.add(builds.get(buildId));
    for (StageRun follower : endFlight(stage)) {
      finish(follower, StageState.CACHED, result, now);
      touched.add(builds.get(follower.buildId));
    }
    touched.forEach(this::advance);
    pump();
    return true;
  }

  /**
   * The stage's attempt failed. Retriable failures are retried; others fail the build, as the
   * farm's failure when the failure says so (a deadline the worker enforced).
   */
  public synchronized boolean onFailed(
      String buildId, String stageId, int attempt, StageFailure failure) {
    StageRun stage = current(buildId, stageId, attempt);
    if (stage == null) {
      return false;
    }
    reportRun(stage, clock.millis(), false);
    if (failure.retriable()) {
      retryOrGiveUp(stage, failure.message(), null);
    } else {
      failWithFollowers(stage, failure.message(), failure.byFarm());
    }
    pump();
    return true;
  }

  /**
   * The periodic checks: re-dispatches running stages whose lease (time since the last event) has
   * expired and queued stages no worker started within the queue lease; fails builds past their
   * deadline, and stages running past the stage deadline whose worker did not report it.
   */
  public synchronized void checkLeases() {
    long now = clock.millis();
    long timeout = settings.leaseTimeout().toMillis();
    for (BuildRun build : List.copyOf(builds.values())) {
      if (!build.finished && now > build.deadlineMs) {
        failUnfinished(build, "the build ran past its deadline of " + human(settings.buildDeadline())
            + " (coordinator setting build-deadline)");
      }
    }
    List<StageRun> expired = new ArrayList<>();
    List<StageRun> untaken = new ArrayList<>();
    List<StageRun> overdue = new ArrayList<>();
    for (BuildRun build : builds.values()) {
      if (build.finished) {
        continue;
      }
      for (StageRun stage : build.stages.values()) {
        if (stage.follower) {
          continue;
        }
        if (stage.state == StageState.RUNNING && now - stage.lastSeenMs > timeout) {
          expired.add(stage);
        } else if (stage.state == StageState.RUNNING
            && now - stage.runStartedMs > settings.stageDeadline().toMillis() + timeout) {
          // the worker kills the stage at its deadline and reports it; this is for one that does not
          overdue.add(stage);
        } else if (stage.state == StageState.QUEUED && stage.released
            && now - stage.lastSeenMs > settings.queueLease().toMillis()) {
          // only a released stage is on the task topic: one the coordinator holds back waits for a
          // slot, bounded by the build deadline
          untaken.add(stage);
        }
      }
    }
    for (StageRun stage : expired) {
      if (stage.state == StageState.RUNNING) {
        retryOrGiveUp(
            stage,
            "no heartbeat from worker "
                + (stage.workerId.isEmpty() ? "(unknown)" : stage.workerId)
                + " for "
                + (now - stage.lastSeenMs) / 1000
                + "s",
            null);
      }
    }
    for (StageRun stage : overdue) {
      if (stage.state == StageState.RUNNING) {
        failWithFollowers(stage, "stage " + stage.spec.name() + " ran past its deadline of "
            + human(settings.stageDeadline()) + " (coordinator setting stage-deadline) on worker "
            + (stage.workerId.isEmpty() ? "(unknown)" : stage.workerId) + ", which did not report it", true);
      }
    }
    for (StageRun stage : untaken) {
      if (stage.state == StageState.QUEUED && !stage.follower) {
        String error = "no worker took stage " + stage.spec.name() + " within " + human(settings.queueLease());
        retryOrGiveUp(stage, error, error + " (" + stage.attempt + (stage.attempt == 1 ? " attempt" : " attempts")
            + "; are workers running, connected to this Kafka, with this farm's key? coordinator setting queue-lease)");
      }
    }
    pump();
  }

  /** "1h", "15m", "90s", "1.5s": a duration as an operator writes it. */
  static String human(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms / 1000.0 + "s";
  }

  /** Cancels every unfinished stage of the build. Returns false when it was already finished. */
  public synchronized boolean cancel(String buildId) {
    BuildRun build = builds.get(buildId);
    if (build == null || build.finished) {
      return false;
    }
    build.finished = true;
    cancelUnfinished(build);
    pump();
    return true;
  }

  /** Forgets a finished build (its snapshot is no longer needed in memory). */
  public synchronized void forget(String buildId) {
    BuildRun build = builds.get(buildId);
    if (build != null && build.finished) {
      builds.remove(buildId);
    }
  }

  /**
   * Stages of unfinished builds by where they are: {@code queued} waits for a worker (published, or
   * about to be; not the followers of another build's identical stage, which no worker will take),
   * {@code running} a worker has started.
   */
  public record StageCounts(int queued, int running) {}

  public synchronized StageCounts stageCounts() {
    int queued = 0;
    int running = 0;
    for (BuildRun build : builds.values()) {
      if (build.finished) {
        continue;
      }
      for (StageRun stage : build.stages.values()) {
        if (stage.state == StageState.QUEUED && !stage.follower) {
          queued++;
        } else if (stage.state == StageState.RUNNING) {
          running++;
        }
      }
    }
    return new StageCounts(queued, running);
  }

  /**
   * How many released stages may be unfinished at once (queued on the task topic or running): the
   * free worker capacity plus a margin. {@link Integer#MAX_VALUE}: no limit.
   */
  public synchronized void setCapacity(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must be >= 0: " + capacity);
    }
    this.capacity = capacity;
    pump();
  }

  public synchronized int capacity() {
    return capacity;
  }

  /**
   * Where the coordinator's dispatch stands: stages held back in the fair queue, stages released
   * and unfinished, and the per-tenant loads.
   */
  public record DispatchState(int held, int inFlight, int capacity, List<FairQueue.TenantLoad> tenants) {}

  public synchronized DispatchState dispatchState() {
    return new DispatchState(ready.size(), ready.inFlight(), capacity, ready.loads());
  }

  /** Stages held back for a worker slot: in the whole farm, and of one tenant. */
  public record Held(int farm, int tenant) {}

  /** As {@link #dispatchState()}'s counts, for admission: two counts, no list of every tenant's load. */
  public synchronized Held held(String tenant) {
    return new Held(ready.size(), ready.queued(tenant));
  }

  /**
   * A build's place in the fair queue: its held stages, how many stages of its tenant go before
   * its first one, and since when its oldest held stage waits (epoch ms); empty when none is held.
   */
  public record QueuePlace(int heldStages, int ahead, long waitingSinceMs) {}

  public synchronized Optional<QueuePlace> queuePlace(String buildId) {
    BuildRun build = builds.get(buildId);
    if (build == null || build.finished || build.held.isEmpty()) {
      return Optional.empty();
    }
    // the build's own counts and the queue's ordered view: no walk of its (maybe 10,000) stages
    BuildClass cls = build.cls;
    int ahead = ready.firstPositionInTenant(cls.tenant(), cls.priority(), build.submittedMs,
        stage -> stage.buildId.equals(buildId)).orElse(0);
    return Optional.of(new QueuePlace(build.held.size(), ahead, build.held.iterator().next().readyMs));
  }

  /** How many builds the scheduler holds (finished ones until they are forgotten). */
  public synchronized int buildCount() {
    return builds.size();
  }

  public synchronized List<StageSnapshot> snapshot(String buildId) {
    BuildRun build = builds.get(buildId);
    if (build == null) {
      return List.of();
    }
    return build.stages.values().stream().map(StageRun::snapshot).toList();
  }

  /** A stage as a build record needs it: its state, its result (null until it has one), its position in the plan. */
  public record StageEntry(StageSnapshot snapshot, StageResult result, int order) {}

  /**
   * The current state of the named stages of the build (unknown ids skipped), for a record of only
   * the stages that changed: O(stages asked), not O(build). Empty when the scheduler does not hold
   * the build (never submitted, or forgotten).
   */
  public synchronized Optional<List<StageEntry>> stages(String buildId, java.util.Collection<String> stageIds) {
    BuildRun build = builds.get(buildId);
    if (build == null) {
      return Optional.empty();
    }
    List<StageEntry> entries = new ArrayList<>(stageIds.size());
    for (String id : stageIds) {
      StageRun stage = build.stages.get(id);
      if (stage != null) {
        entries.add(new StageEntry(stage.snapshot(), stage.result, stage.order));
      }
    }
    return Optional.of(entries);
  }

  /** How many stages the build has; 0 when the scheduler does not hold it. */
  public synchronized int stageCount(String buildId) {
    BuildRun build = builds.get(buildId);
    return build == null ? 0 : build.stages.size();
  }

  /** The results of the build's finished stages, by stage id. */
  public synchronized Map<String, StageResult> results(String buildId) {
    BuildRun build = builds.get(buildId);
    Map<String, StageResult> results = new LinkedHashMap<>();
    if (build != null) {
      build.stages.values().stream()
          .filter(s -> s.result != null)
          .forEach(s -> results.put(s.id(), s.result));
    }
    return results;
  }

  // --- internals -------------------------------------------------------------------------

  /** The stage the event is about, or null when the event is stale (old attempt, finished). */
  private StageRun current(String buildId, String stageId, int attempt) {
    BuildRun build = builds.get(buildId);
    if (build == null || build.finished) {
      return null;
    }
    StageRun stage = build.stages.get(stageId);
    if (stage == null
        || stage.follower
        || stage.held
        || stage.attempt != attempt
        || stage.state.finished()
        || stage.state == StageState.WAITING) {
      return null;
    }
    return stage;
  }

  /** Dispatches the build's ready stages, longest remaining path first; detects completion. */
  private void advance(BuildRun build) {
    if (build.finished) {
      return;
    }
    if (build.succeeded == build.stages.size()) {
      build.finished = true;
      listener.buildStagesDone(build.buildId, results(build.buildId));
      return;
    }
    List<StageRun> candidates = List.copyOf(build.candidates);
    build.candidates.clear();
    candidates.stream()
        .filter(s -> s.state == StageState.WAITING)
        .sorted(
            Comparator.comparing((StageRun s) -> -build.remainingPath.get(s.id()))
                .thenComparing(StageRun::id))
        .toList()
        .forEach(stage -> start(build, stage));
  }

  private void start(BuildRun build, StageRun stage) {
    String key = stage.spec.chainKey();
    if (!key.isEmpty()) {
      Deque<StageRun> flight = flights.computeIfAbsent(key, k -> new ArrayDeque<>());
      flight.addLast(stage);
      if (flight.size() > 1) {
        stage.follower = true;
        stage.state = StageState.QUEUED;
        stage.lastSeenMs = clock.millis();
        listener.stageChanged(stage.snapshot());
        return;
      }
    }
    if (stage.wasOut) {
      // out before a coordinator restart: it may still run on a worker, so its next attempt goes
      // out at once (superseding it) and holds a slot as it did
      stage.wasOut = false;
      stage.released = true;
      ready.inFlight(build.cls.tenant());
      dispatchNextAttempt(build, stage);
      return;
    }
    hold(build, stage);
  }

  /** Queues a ready stage in the fair queue; {@link #pump()} releases it when a slot is free. */
  private void hold(BuildRun build, StageRun stage) {
    stage.follower = false;
    stage.held = true;
    build.held.add(stage);
    stage.state = StageState.QUEUED;
    stage.workerId = "";
    long now = clock.millis();
    stage.lastSeenMs = now;
    stage.readyMs = now;
    BuildClass cls = build.cls;
    stage.wasOut = false;
    ready.add(stage, new FairQueue.Rank(cls.tenant(), cls.weight(), cls.priority(), build.submittedMs,
        build.remainingPath.get(stage.id())));
    // no stageChanged (no record, no progress entry) until it is released: a held stage resumes
    // held whether its record says WAITING or QUEUED with attempt 0, and an unlimited farm writes
    // no more records than before
  }

  /**
   * Releases held stages while fewer than {@link #capacity} released stages are unfinished. Called
   * at the end of every operation that may have queued a stage or freed a slot.
   */
  private void pump() {
    if (pumping) {
      return; // a dispatch that calls back in: the outer loop goes on
    }
    pumping = true;
    try {
      while (ready.inFlight() < capacity) {
        Optional<StageRun> next = ready.release();
        if (next.isEmpty()) {
          return;
        }
        StageRun stage = next.get();
        stage.held = false;
        builds.get(stage.buildId).held.remove(stage);
        stage.released = true;
        dispatchNextAttempt(builds.get(stage.buildId), stage);
      }
    } finally {
      pumping = false;
    }
  }

  private void dispatchNextAttempt(BuildRun build, StageRun stage) {
    if (stage.readyMs == 0) {
      stage.readyMs = clock.millis(); // a retry: its wait counts from now
    }
    stage.follower = false;
    stage.attempt++;
    stage.delivery = 0;
    stage.state = StageState.QUEUED;
    stage.workerId = "";
    stage.lastSeenMs = clock.millis();
    listener.stageChanged(stage.snapshot());
    Map<String, StageResult> inputs = new LinkedHashMap<>();
    for (String dependency : stage.spec.dependsOn()) {
      inputs.put(dependency, build.stages.get(dependency).result);
    }
    dispatcher.dispatch(build.buildId, stage.id(), stage.attempt, inputs);
  }

  /**
   * The current run of the stage is lost: dispatches the next attempt, or fails the build once
   * {@code maxAttempts} runs were lost ({@code giveUpMessage}, or the poison-stage message).
   */
  private void retryOrGiveUp(StageRun stage, String error, String giveUpMessage) {
    stage.lastError = error;
    if (lostRuns(stage) + 1 >= settings.maxAttempts()) {
      failWithFollowers(stage, giveUpMessage != null ? giveUpMessage : poisonMessage(stage, lostRuns(stage) + 1, error),
          true);
      return;
    }
    dispatchNextAttempt(builds.get(stage.buildId), stage);
  }

  /** Runs of the stage that ended without a result, not counting the current one. */
  private static int lostRuns(StageRun stage) {
    return stage.attempt - 1 + stage.redeliveries;
  }

  /** "failed on 3 workers", or "failed 3 times on 1 worker" when attempts landed on the same worker. */
  private static String poisonMessage(StageRun stage, int runs, String error) {
    int workers = Math.max(1, stage.workersTried.size());
    String where =
        workers >= runs
            ? "failed on " + runs + (runs == 1 ? " worker" : " workers")
            : "failed " + runs + " times on " + workers + (workers == 1 ? " worker" : " workers");
    return "stage " + stage.spec.name() + " " + where + " (last error: " + error + ")";
  }

  /** A deterministic failure: the followers of the stage would fail the same way. */
  private void failWithFollowers(StageRun stage, String error) {
    failWithFollowers(stage, error, false);
  }

  /** @param byFarm the farm failed the stage (see {@link SchedulerListener#buildFailedByFarm}) */
  private void failWithFollowers(StageRun stage, String error, boolean byFarm) {
    List<StageRun> followers = endFlight(stage);
    failBuild(stage, error, byFarm);
    for (StageRun follower : followers) {
      failBuild(follower, error, byFarm);
    }
  }

  private void failBuild(StageRun stage, String error, boolean byFarm) {
    BuildRun build = builds.get(stage.buildId);
    if (build.finished) {
      return;
    }
    stage.lastError = error;
    finish(stage, StageState.FAILED, null, clock.millis());
    build.finished = true;
    cancelUnfinished(build);
    if (byFarm) {
      listener.buildFailedByFarm(build.buildId, error);
    } else {
      listener.buildFailed(build.buildId, error);
    }
  }

  /** Fails a build as a whole (its deadline): the stages that were under way fail, the rest are cancelled. */
  private void failUnfinished(BuildRun build, String error) {
    long now = clock.millis();
    for (StageRun stage : build.stages.values()) {
      if (stage.state == StageState.RUNNING || (stage.state == StageState.QUEUED && !stage.follower)) {
        stage.lastError = error;
        leaveFlight(stage);
        finish(stage, StageState.FAILED, null, now);
      }
    }
    build.finished = true;
    cancelUnfinished(build);
    listener.buildFailedByFarm(build.buildId, error);
  }

  private void cancelUnfinished(BuildRun build) {
    long now = clock.millis();
    for (StageRun stage : build.stages.values()) {
      if (!stage.state.finished()) {
        leaveFlight(stage);
        finish(stage, StageState.CANCELLED, null, now);
      }
    }
  }

  /** Removes a stage from its flight; when it led, the next follower runs the stage itself. */
  private void leaveFlight(StageRun stage) {
    String key = stage.spec.chainKey();
    Deque<StageRun> flight = key.isEmpty() ? null : flights.get(key);
    if (flight == null || !flight.contains(stage)) {
      return;
    }
    boolean wasLeader = flight.peekFirst() == stage;
    flight.remove(stage);
    if (flight.isEmpty()) {
      flights.remove(key);
    } else if (wasLeader) {
      StageRun next = flight.peekFirst();
      hold(builds.get(next.buildId), next);
    }
  }

  /** Ends the flight the stage leads and returns its followers. */
  private List<StageRun> endFlight(StageRun leader) {
    String key = leader.spec.chainKey();
    Deque<StageRun> flight = key.isEmpty() ? null : flights.get(key);
    if (flight == null || flight.peekFirst() != leader) {
      return List.of();
    }
    flights.remove(key);
    flight.removeFirst();
    return new ArrayList<>(flight);
  }

  /** A worker reported the end of the stage's current run (only a started run has a duration). */
  private void reportRun(StageRun stage, long now, boolean succeeded) {
    if (stage.state == StageState.RUNNING) {
      listener.stageRan(stage.snapshot(), Math.max(0, now - stage.runStartedMs), succeeded);
    }
  }

  private void finish(StageRun stage, StageState state, StageResult result, long now) {
    if (stage.held) {
      ready.remove(stage);
      stage.held = false;
      BuildRun build = builds.get(stage.buildId);
      if (build != null) {
        build.held.remove(stage);
      }
    }
    if (stage.released) {
      ready.finished(builds.get(stage.buildId).cls.tenant());
      stage.released = false;
    }
    stage.readyMs = 0;
    if (state.succeeded() && !stage.state.succeeded()) {
      BuildRun build = builds.get(stage.buildId);
      if (build != null) {
        build.succeeded(stage);
      }
    }
    stage.state = state;
    stage.result = result;
    stage.follower = false;
    if (stage.startedMs == 0) {
      stage.startedMs = now;
    }
    stage.finishedMs = now;
    listener.stageChanged(stage.snapshot());
  }
}
