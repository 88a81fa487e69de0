package dev.stagefarm.coordinator.metrics;

import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.schedule.StageState;
import dev.stagefarm.proto.v1.BuildState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The coordinator's meters (docs/operations.md, "Metrics"). Names are part of the deployment's
 * contract: the KEDA ScaledObject scales workers on {@code stagefarm_stages_queued}. Tags are
 * bounded (states, outcomes), never build or stage ids.
 *
 * <p>The gauges read the active coordinator's state when scraped; a standby reports zero queued and
 * running stages, so summing over every coordinator of a farm counts each stage once.
 */
public final class CoordinatorMetrics {
  public static final String STAGES_QUEUED = "stagefarm.stages.queued";
  public static final String STAGES_RUNNING = "stagefarm.stages.running";
  public static final String COORDINATOR_ACTIVE = "stagefarm.coordinator.active";
  public static final String BUILDS = "stagefarm.builds";
  public static final String BUILDS_FINISHED = "stagefarm.builds.finished";
  public static final String STAGES_FINISHED = "stagefarm.stages.finished";
  public static final String STAGE_DISPATCH = "stagefarm.stage.dispatch";
  public static final String STAGE_RUN = "stagefarm.stage.run";
  public static final String TENANT_WAIT = "stagefarm.tenant.wait";
  public static final String TENANT_SLOT_TIME = "stagefarm.tenant.slot.time";
  public static final String TENANT_SLOTS = "stagefarm.tenant.slots";
  public static final String STAGES_HELD = "stagefarm.stages.held";
  public static final String DISPATCH_CAPACITY = "stagefarm.dispatch.capacity";

  /** What the gauges read: the active coordinator's view, or nothing while a standby. */
  public interface Source {
    boolean active();

    Scheduler.StageCounts stageCounts();

    /** Unfinished builds by state (QUEUED: being planned, RUNNING). */
    Map<BuildState, Integer> unfinishedBuilds();

    /** Stages held in the fair queue (ready, not yet released to the workers). */
    default int heldStages() {
      return 0;
    }

    /** How many released stages may be unfinished at once (the workers' slots plus the margin). */
    default int dispatchCapacity() {
      return 0;
    }

    /** Released, unfinished stages by tenant tag. */
    default Map<String, Integer> tenantSlots() {
      return Map.of();
    }

    Source STANDBY = new Source() {
      @Override
      public boolean active() {
        return false;
      }

      @Override
      public Scheduler.StageCounts stageCounts() {
        return new Scheduler.StageCounts(0, 0);
      }

      @Override
      public Map<BuildState, Integer> unfinishedBuilds() {
        return Map.of();
      }
    };
  }

  /** Meters nobody reads: for coordinators started without a registry (tests, the embedded farm). */
  public static CoordinatorMetrics none() {
    return new CoordinatorMetrics(new CompositeMeterRegistry(), () -> Source.STANDBY);
  }

  private final Timer dispatch;
  private final Timer ranSucceeded;
  private final Timer ranFailed;
  private final Map<BuildState, Counter> buildsFinished = new EnumMap<>(BuildState.class);
  private final Map<StageState, Counter> stagesFinished = new EnumMap<>(StageState.class);
  private final MeterRegistry registry;
  private final Supplier<Source> source;
  /** Per tenant tag (the coordinator bounds the tags: metrics-max-tenants, the rest "other"). */
  private final Map<String, Timer> tenantWaits = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, Counter> tenantSlotTimes = new java.util.concurrent.ConcurrentHashMap<>();

  /** @param source read at each scrape (the current term's coordinator: it changes with elections) */
  public CoordinatorMetrics(MeterRegistry registry, Supplier<Source> source) {
    this.registry = registry;
    this.source = source;
    Gauge.builder(STAGES_HELD, () -> source.get().heldStages())
        .description("Ready stages the coordinator holds back until a worker slot is free (fair queue)")
        .register(registry);
    Gauge.builder(DISPATCH_CAPACITY, () -> source.get().dispatchCapacity())
        .description("How many released stages may be unfinished at once: the live workers' slots plus the margin")
        .register(registry);
    Gauge.builder(STAGES_QUEUED, () -> source.get().stageCounts().queued())
        .description("Stages published to Kafka (or about to be) that no worker has started yet: the autoscaling signal")
        .register(registry);
    Gauge.builder(STAGES_RUNNING, () -> source.get().stageCounts().running())
        .description("Stages a worker has started and not finished")
        .register(registry);
    Gauge.builder(COORDINATOR_ACTIVE, () -> source.get().active() ? 1 : 0)
        .description("1 on the active coordinator, 0 on a standby")
        .register(registry);
    for (BuildState state : new BuildState[] {BuildState.QUEUED, BuildState.RUNNING}) {
      Gauge.builder(BUILDS, () -> source.get().unfinishedBuilds().getOrDefault(state, 0))
          .tag("state", tag(state.name()))
          .description("Unfinished builds by state (queued: being planned)")
          .register(registry);
    }
    for (BuildState state : new BuildState[] {BuildState.SUCCEEDED, BuildState.FAILED, BuildState.CANCELLED}) {
      buildsFinished.put(state, Counter.builder(BUILDS_FINISHED).tag("state", tag(state.name()))
          .description("Builds that ended, by how").register(registry));
    }
    for (StageState state : StageState.values()) {
      if (state.finished()) {
        stagesFinished.put(state, Counter.builder(STAGES_FINISHED).tag("state", tag(state.name()))
            .description("Stages that ended, by how (cached: from cache records or another build's identical stage)")
            .register(registry));
      }
    }
    dispatch = Timer.builder(STAGE_DISPATCH)
        .description("From a stage's task being published to a worker starting it")
        .serviceLevelObjectives(seconds(0.1), seconds(0.5), seconds(1), seconds(5), seconds(30), seconds(120),
            seconds(600))
        .register(registry);
    ranSucceeded = stageRun(registry, "succeeded");
    ranFailed = stageRun(registry, "failed");
  }

  private static Timer stageRun(MeterRegistry registry, String outcome) {
    return Timer.builder(STAGE_RUN)
        .tag("outcome", outcome)
        .description("One run of a stage on a worker, from its start to its result or failure")
        .serviceLevelObjectives(seconds(1), seconds(5), seconds(30), seconds(60), seconds(300), seconds(900),
            seconds(3600))
        .register(registry);
  }

  private static Duration seconds(double s) {
    return Duration.ofMillis((long) (s * 1000));
  }

  private static String tag(String state) {
    return state.toLowerCase(Locale.ROOT);
  }

  public void stageStarted(long waitedMs) {
    dispatch.record(Duration.ofMillis(waitedMs));
  }

  /** A worker started a stage of {@code tenant} {@code waitedMs} after it became ready. */
  public void tenantStageStarted(String tenant, long waitedMs) {
    registerTenant(tenant).record(Duration.ofMillis(waitedMs));
  }

  /** A stage of {@code tenant} held a worker slot for {@code ranMs}. */
  public void tenantSlotTime(String tenant, long ranMs) {
    registerTenant(tenant);
    tenantSlotTimes.get(tenant).increment(ranMs / 1000.0);
  }

  /** The tenant tag's meters, registered once. */
  private Timer registerTenant(String tenant) {
    return tenantWaits.computeIfAbsent(tenant, t -> {
      tenantSlotTimes.computeIfAbsent(t, x -> Counter.builder(TENANT_SLOT_TIME).tag("tenant", x).baseUnit("seconds")
          .description("Worker slot-time used by the tenant's stages: its share is its rate over the sum of all")
          .register(registry));
      Gauge.builder(TENANT_SLOTS, () -> source.get().tenantSlots().getOrDefault(t, 0)).tag("tenant", t)
          .description("The tenant's released, unfinished stages (its current share of the slots)")
          .register(registry);
      return Timer.builder(TENANT_WAIT).tag("tenant", t)
          .description("From a stage becoming ready to a worker starting it (held in the fair queue, then on Kafka)")
          .serviceLevelObjectives(seconds(1), seconds(5), seconds(30), seconds(120), seconds(600), seconds(1800))
          .register(registry);
    });
  }

  public void stageRan(long ranMs, boolean succeeded) {
    (succeeded ? ranSucceeded : ranFailed).record(Duration.ofMillis(ranMs));
  }

  public void stageFinished(StageState state) {
    Counter counter = stagesFinished.get(state);
    if (counter != null) {
      counter.increment();
    }
  }

  public void buildFinished(BuildState state) {
    Counter counter = buildsFinished.get(state);
    if (counter != null) {
      counter.increment();
    }
  }
}
