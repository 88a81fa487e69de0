package dev.stagefarm.coordinator;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageStatus;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A measurement, not a test (bench/README.md, "Coordinator throughput"; run by {@code bench/dispatch.sh}):
 * a real coordinator on one of two farms, one or more builds of no-op stages, and synthetic workers
 * that take each task and at once publish its {@code completed} event (and, with {@code
 * DISPATCH_EVENTS=two}, a {@code started} before it), signed as workers sign them, and announce their slots as real workers do.
 * <ul>
 *   <li>{@code DISPATCH_FARM=kafka} (default), {@link DispatchKafkaFarm}: {@link CoordinatorNode} with
 *       leader election, fenced transactional producer, outbox, journal and event stream on a real
 *       Kafka broker and S3 (the testkit's in-JVM ones); the task times are the broker's.
 *   <li>{@code DISPATCH_FARM=local}, {@link DispatchBusFarm}: the coordinator as the local farm runs
 *       it, on the in-process bus; the task times are the synthetic workers' claims.
 * </ul>
 *
 * <p>Each build is {@code FROM scratch} stages with one {@code LABEL} each (not cached: every one
 * goes to a worker), gathered by stages of at most 100 {@code COPY --from} each, and a final stage
 * that copies from the gatherers (so the target reaches every stage). The final status gives when
 * the coordinator processed each stage's completion.
 *
 * <p>Args: {@code LEAVES BUILDS SLOTS} (default 10000 1 1000): leaf stages per build, builds
 * submitted at once (from as many tenants, up to 10), and the task slots the synthetic workers
 * announce (the coordinator keeps at most slots + margin tasks out).
 */
public final class DispatchBench {
  private static final int FAN_IN = 100;
  /** The worker ids the synthetic workers announce and report as. */
  static final int WORKER_IDS = 8;

  private DispatchBench() {}

  public static void main(String[] args) throws Exception {
    int leaves = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int buildCount = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    int slots = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    String farmKind = System.getenv().getOrDefault("DISPATCH_FARM", "kafka");
    DispatchFarm farm = switch (farmKind) {
      case "kafka" -> DispatchKafkaFarm.start(slots, "shared".equals(System.getenv("DISPATCH_KEYS")));
      case "local" -> DispatchBusFarm.start(slots);
      default -> throw new IllegalArgumentException("DISPATCH_FARM is kafka or local, not '" + farmKind + "'");
    };
    CoordinatorNode node = farm.node();
    String run = UUID.randomUUID().toString().substring(0, 8);
    Thread.sleep(3000); // presence heard, consumers joined the share group
    // DISPATCH_WARMUP=LEAVES: a build of that many leaves first, not measured: the JIT has compiled the dispatch
    // path (the coordinator's, the broker's, the clients') as in a farm that has been running, not in a fresh JVM
    int warmup = Integer.parseInt(System.getenv().getOrDefault("DISPATCH_WARMUP", "0"));
    if (warmup > 0) {
      BuildStatus status = node.coordinator().submit(SubmitBuildRequest.newBuilder()
          .setDockerfile(ByteString.copyFrom(dockerfile(warmup, run + "-warmup"), StandardCharsets.UTF_8))
          .setTenant("warmup").build(), null, "", "warmup", Integer.MAX_VALUE);
      awaitNoUnfinishedBuilds(node, "the warm-up build");
      if (node.coordinator().status(status.getBuildId()).orElseThrow().getState() != BuildState.SUCCEEDED) {
        throw new IllegalStateException("the warm-up build did not succeed");
      }
      Thread.sleep(2000);
    }

    double[] loadStart = loadAverage();
    long heapBefore = heapAfterGc();
    DispatchCpu.Sample cpuBefore = DispatchCpu.Sample.now();
    HeapSampler heap = new HeapSampler().start();

    long submitStart = System.currentTimeMillis();
    List<String> buildIds = new ArrayList<>();
    for (int b = 0; b < buildCount; b++) {
      SubmitBuildRequest request = SubmitBuildRequest.newBuilder()
          .setDockerfile(ByteString.copyFrom(dockerfile(leaves, run + "-" + b), StandardCharsets.UTF_8))
          .setTenant("t" + (b % 10))
          .build();
      BuildStatus status = node.coordinator().submit(request, null, "", "t" + (b % 10), Integer.MAX_VALUE);
      if (status.getState() == BuildState.FAILED) {
        throw new IllegalStateException("build " + b + " failed at submission: " + status.getError());
      }
      buildIds.add(status.getBuildId());
    }
    long submitted = System.currentTimeMillis();
    // the dispatch phase alone (planning is the main thread's and the store's): what a stage costs once it is queued
    DispatchCpu.Sample cpuSubmitted = DispatchCpu.Sample.now();
    jdk.jfr.Recording profile = startProfile();
    int stagesPerBuild = leaves + gatherers(leaves) + 1;
    int expected = stagesPerBuild * buildCount;
    farm.tasks().follow(buildIds, expected);

    // waits on the coordinator's count of unfinished builds (the bench's are its only ones): a build's
    // whole status (every stage, under the scheduler's lock) is asked for once, at the end
    awaitNoUnfinishedBuilds(node, "the builds (tasks seen: " + farm.tasks().records() + " when they started)");
    long finished = System.currentTimeMillis();
    DispatchCpu.Sample cpuFinished = DispatchCpu.Sample.now();
    if (profile != null) {
      profile.stop(); // written to DISPATCH_JFR
    }
    Map<String, BuildStatus> finals = new HashMap<>();
    for (String id : buildIds) {
      finals.put(id, node.coordinator().status(id).orElseThrow());
    }
    farm.tasks().awaitAll(Duration.ofSeconds(30));
    DispatchCpu.Sample cpuAfter = DispatchCpu.Sample.now();
    heap.stop();
    long heapEnd = heapAfterGc();
    double[] loadEnd = loadAverage();

    // --- report --------------------------------------------------------------------------------
    System.out.printf("BENCH %s%n", farm.describe());
    System.out.printf("BENCH %d build(s) x %d stages (%d leaves, %d gatherers, 1 final), %d slots announced; %s%n",
        buildCount, stagesPerBuild, leaves, gatherers(leaves), slots, warmup > 0
            ? "after an unmeasured warm-up build of " + warmup + " leaves (DISPATCH_WARMUP)" : "a fresh JVM (no warm-up)");
    for (BuildStatus s : finals.values()) {
      if (s.getState() != BuildState.SUCCEEDED) {
        System.out.printf("BENCH build %s %s: %s%n", s.getBuildId(), s.getState(), s.getError());
      }
    }
    System.out.printf("BENCH submit (plan + durable record) %.2f s%n", (submitted - submitStart) / 1000.0);
    DispatchTaskLog.Summary tasks = farm.tasks().summary();
    System.out.printf("BENCH %s: %d records, %d distinct stages of %d, %d later attempts%n",
        farm.taskClock(), tasks.records(), tasks.distinct(), expected, tasks.retries());
    System.out.printf("BENCH dispatch: first -> last task %.2f s: %.0f dispatches/s; gap between tasks p50 %.2f ms"
            + " p99 %.2f ms max %.1f ms%n", tasks.spanMs() / 1000.0, tasks.rate(), tasks.gapP50(), tasks.gapP99(),
        tasks.gapMax());
    List<Long> doneAt = new ArrayList<>();
    for (BuildStatus s : finals.values()) {
      for (StageStatus stage : s.getStagesList()) {
        if (stage.getFinishedMs() > 0) {
          doneAt.add(stage.getFinishedMs());
        }
      }
    }
    doneAt.sort(null);
    if (doneAt.size() > 1) {
      double span = (doneAt.getLast() - doneAt.getFirst()) / 1000.0;
      System.out.printf("BENCH completions processed: %d over %.2f s: %.0f/s%n", doneAt.size(), span,
          (doneAt.size() - 1) / span);
    }
    System.out.printf("BENCH end to end: %d stages, submit returned -> builds finished %.2f s: %.0f stages/s%n",
        expected, (finished - submitted) / 1000.0, expected / ((finished - submitted) / 1000.0));
    System.out.printf("BENCH synthetic workers: %d tasks taken, %d completions published%n",
        farm.taken(), farm.completed());
    DispatchCpu whole = new DispatchCpu(cpuBefore, cpuAfter);
    double window = (finished - submitStart) / 1000.0;
    System.out.printf("BENCH coordinator CPU (its threads: %s): %.2f s over %.2f s (%.2f cores); whole JVM %.2f s%n",
        DispatchCpu.COORDINATOR, whole.coordinator() / 1e9, window, whole.coordinator() / 1e9 / window,
        whole.process() / 1e9);
    DispatchCpu dispatch = new DispatchCpu(cpuSubmitted, cpuFinished);
    double dispatchWindow = (finished - submitted) / 1000.0;
    System.out.printf("BENCH dispatch phase (submit returned -> builds finished, %.2f s): coordinator threads %.2f s"
            + " = %.3f ms per stage; whole JVM %.2f s = %.3f ms per stage (%.2f cores)%n", dispatchWindow,
        dispatch.coordinator() / 1e9, dispatch.coordinator() / 1e6 / expected, dispatch.process() / 1e9,
        dispatch.process() / 1e6 / expected, dispatch.process() / 1e9 / dispatchWindow);
    StringBuilder parts = new StringBuilder("BENCH dispatch phase by part, ms per stage:");
    dispatch.byPart().forEach((part, nanos) -> parts.append(String.format(" [%s %.3f]", part, nanos / 1e6 / expected)));
    System.out.println(parts);
    StringBuilder top = new StringBuilder("BENCH dispatch phase, busiest threads:");
    dispatch.busiest(10).forEach(t -> top.append(String.format(" [%s %.2f s]", t.name(), t.nanos() / 1e9)));
    System.out.println(top);
    System.out.printf("BENCH heap (whole JVM) after GC: %d MiB before the builds, %d MiB after (builds still held);"
        + " peak used %d MiB%n", heapBefore >> 20, heapEnd >> 20, heap.peak() >> 20);
    System.out.printf("BENCH coordinator still active at the end: %s%n", node.isActive());
    if (!farm.writers().isEmpty()) {
      System.out.printf("BENCH %s%n", farm.writers());
    }
    System.out.printf("BENCH load average: %.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end%n",
        loadStart[0], loadStart[1], loadStart[2], loadEnd[0], loadEnd[1], loadEnd[2]);
    System.out.flush();
    Runtime.getRuntime().halt(0); // the broker's and S3's shutdown hooks are not needed
  }

  /** Waits until the coordinator has no unfinished build, polling every 20 ms, at most 30 minutes. */
  private static void awaitNoUnfinishedBuilds(CoordinatorNode node, String what) throws InterruptedException {
    long deadline = System.currentTimeMillis() + TimeUnit.MINUTES.toMillis(30);
    while (node.coordinator().unfinishedBuilds().values().stream().mapToInt(Integer::intValue).sum() > 0) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException(what + " did not finish within 30 min");
      }
      Thread.sleep(20);
    }
  }

  /**
   * A JFR recording ({@code profile} settings) of the dispatch phase alone, into the file {@code
   * DISPATCH_JFR} names; null when it names none.
   */
  private static jdk.jfr.Recording startProfile() throws Exception {
    String file = System.getenv("DISPATCH_JFR");
    if (file == null || file.isEmpty()) {
      return null;
    }
    jdk.jfr.Recording recording = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
    recording.setDestination(Path.of(file));
    recording.start();
    return recording;
  }

  static int gatherers(int leaves) {
    return (leaves + FAN_IN - 1) / FAN_IN;
  }

  /** Leaves of one LABEL each, gatherers of up to 100 COPY --from, a final stage copying from each gatherer. */
  static String dockerfile(int leaves, String salt) {
    StringBuilder d = new StringBuilder();
    for (int i = 0; i < leaves; i++) {
      d.append("FROM scratch AS s").append(i).append("\nLABEL n=\"").append(salt).append('-').append(i).append("\"\n");
    }
    int gatherers = gatherers(leaves);
    for (int g = 0; g < gatherers; g++) {
      d.append("FROM scratch AS g").append(g).append('\n');
      for (int i = g * FAN_IN; i < Math.min(leaves, (g + 1) * FAN_IN); i++) {
        d.append("COPY --from=s").append(i).append(" /n /n").append(i).append('\n');
      }
    }
    d.append("FROM scratch\n");
    for (int g = 0; g < gatherers; g++) {
      d.append("COPY --from=g").append(g).append(" /n").append(g * FAN_IN).append(" /g").append(g).append('\n');
    }
    return d.toString();
  }

  /**
   * Whether the synthetic workers announce each run with a {@code started} before its {@code
   * completed}, as workers did before session 11 ({@code DISPATCH_EVENTS=two}); by default ({@code
   * one}) they publish the {@code completed} alone, as a worker does for a stage that ends within its
   * start delay (docs/protocol.md, "One event for a stage that ends at once").
   */
  static final boolean ANNOUNCE_STARTS = "two".equals(System.getenv().getOrDefault("DISPATCH_EVENTS", "one"));

  /**
   * A no-op stage's run as a worker reports it: {@code completed} with the task's base as its result
   * (no layer, the base's config) and when it started, alone; with {@link #ANNOUNCE_STARTS} a
   * {@code started} first (with the record's delivery count) and a plain {@code completed}. The last
   * event is the outcome.
   */
  static List<StageEvent> noOpRun(StageTask task, String workerId, int deliveryCount) {
    StageEvent.Builder event = StageEvent.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION)
        .setBuildId(task.getBuildId()).setStageId(task.getStageId()).setAttempt(task.getAttempt())
        .setWorkerId(workerId).setDeliveryCount(deliveryCount);
    long startedMs = System.currentTimeMillis();
    if (!ANNOUNCE_STARTS) {
      return List.of(event.setTimestampMs(System.currentTimeMillis())
          .setCompleted(StageEvent.Completed.newBuilder().setResult(task.getBase()).setStartedMs(startedMs)).build());
    }
    StageEvent started = event.setTimestampMs(startedMs)
        .setStarted(StageEvent.Started.getDefaultInstance()).build();
    StageEvent completed = event.setTimestampMs(System.currentTimeMillis())
        .setCompleted(StageEvent.Completed.newBuilder().setResult(task.getBase())).build();
    return List.of(started, completed);
  }

  /** Announces {@link #WORKER_IDS} workers with {@code slots} slots between them, every second, until interrupted. */
  static void announce(int slots, Consumer<StageEvent> send) {
    while (true) {
      for (int w = 0; w < WORKER_IDS; w++) {
        int own = slots / WORKER_IDS + (w < slots % WORKER_IDS ? 1 : 0);
        send.accept(StageEvent.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION)
            .setWorkerId("synthetic-" + w).setTimestampMs(System.currentTimeMillis())
            .setWorkerPresent(StageEvent.WorkerPresent.newBuilder().addPlatforms("linux/amd64")
                .setSlots(own).setFree(own).setIntervalMs(1000))
            .build());
      }
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** The JVM's heap in use, sampled every 100 ms (its peak). */
  static final class HeapSampler {
    private volatile long peak;
    private volatile boolean running = true;

    HeapSampler start() {
      Thread.ofPlatform().daemon().name("heap-sampler").start(() -> {
        while (running) {
          peak = Math.max(peak, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      return this;
    }

    void stop() {
      running = false;
    }

    long peak() {
      return peak;
    }
  }

  private static long heapAfterGc() {
    System.gc();
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static double[] loadAverage() throws java.io.IOException {
    String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
    return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])};
  }

  static void waitFor(java.util.function.BooleanSupplier condition, Duration timeout, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(100);
    }
  }
}
