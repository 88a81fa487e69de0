package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.schedule.SchedulerListener;
import dev.stagefarm.coordinator.schedule.StageSpec;
import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.StageStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.testkit.TempDirectories;
import dev.stagefarm.worker.Worker;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A benchmark, not a test of the suite (tag {@code bench}, run by {@code bench/load.sh}): 10
 * tenants submit 100 small builds in all (1-stage, 8-stage fan-out, 30-step chain; every other
 * build of a kind shared between tenants, the rest unique) at once to a real embedded farm of 8
 * worker slots (two workers of four), then prints throughput, queue wait and build time per tenant,
 * each tenant's share of the slot-time while every tenant still had work against its weight (and
 * Jain's fairness index), the JVM's heap and CPU; and the scheduler's dispatch rate with 10,000
 * queued no-op stages.
 */
@Tag("bench")
class FairLoadBench {
  private static final int TENANTS = Integer.getInteger("stagefarm.bench.tenants", 10);
  private static final int BUILDS = Integer.getInteger("stagefarm.bench.builds", 100);

  record Job(String tenant, String kind, boolean shared, String dockerfile) {}

  @Test
  void tenTenantsShareEightSlots() throws Exception {
    if (BUILDS == 0) {
      dispatchRate(); // bench/load.sh 0: the dispatch rate alone (no farm)
      return;
    }
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    String base = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    List<Job> jobs = new ArrayList<>();
    String sharedSalt = UUID.randomUUID().toString();
    for (int i = 0; i < BUILDS; i++) {
      String tenant = "t" + (i % TENANTS);
      int j = i / TENANTS;
      String kind = List.of("one", "fanout", "chain").get((i + j) % 3);
      boolean shared = j % 2 == 0;
      String salt = shared ? sharedSalt + "-" + kind + "-" + j : UUID.randomUUID().toString();
      jobs.add(new Job(tenant, kind, shared, dockerfile(kind, base, salt)));
    }
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    try (EmbeddedFarm farm = EmbeddedFarm.start(new EmbeddedFarm.Options(
        TempDirectories.createDeletedAtExit("stagefarm-load-bench-"), null, 2, registry.settings(),
        EmbeddedKafka.Settings.forTests(),
        new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(30), 3), Duration.ofMillis(500)),
        0, config -> new Worker(config.withConcurrency(4)).start()))) {
      BuildClient client = new BuildClient(farm.channel(), farm.endpoint());
      long cpuBefore = os.getProcessCpuTime();
      long started = System.currentTimeMillis();
      Map<String, BuildStatus> finished = new ConcurrentHashMap<>();
      Map<String, Job> jobOf = new ConcurrentHashMap<>();
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Future<?>> all = new ArrayList<>();
        for (Job job : jobs) {
          all.add(pool.submit(() -> {
            BuildStatus submitted = client.submit(SubmitBuildRequest.newBuilder()
                .setDockerfile(ByteString.copyFromUtf8(job.dockerfile())).setDockerfileName("Dockerfile")
                .setTenant(job.tenant()).build());
            jobOf.put(submitted.getBuildId(), job);
            BuildStatus end = BuildClient.isFinalState(submitted) ? submitted
                : client.watch(submitted.getBuildId(), p -> {});
            finished.put(end.getBuildId(), client.getBuild(end.getBuildId()));
            return null;
          }));
        }
        for (Future<?> f : all) {
          f.get();
        }
      }
      long wallMs = System.currentTimeMillis() - started;
      long cpuMs = (os.getProcessCpuTime() - cpuBefore) / 1_000_000;
      System.gc();
      long heapMiB = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
      report(finished, jobOf, wallMs, cpuMs, heapMiB);
      assertThat(finished).hasSize(BUILDS);
    }
    dispatchRate();
  }

  private static String dockerfile(String kind, String base, String salt) {
    return switch (kind) {
      case "one" -> "FROM %s\nRUN echo %s > /x && sleep 1\n".formatted(base, salt);
      case "fanout" -> {
        StringBuilder d = new StringBuilder();
        for (int s = 0; s < 8; s++) {
          d.append("FROM %s AS s%d\nRUN echo %s-%d > /x && sleep 1\n".formatted(base, s, salt, s));
        }
        d.append("FROM ").append(base).append('\n');
        for (int s = 0; s < 8; s++) {
          d.append("COPY --from=s%d /x /x%d\n".formatted(s, s));
        }
        yield d.toString();
      }
      default -> {
        StringBuilder d = new StringBuilder("FROM " + base + "\n");
        for (int s = 0; s < 30; s++) {
          d.append("RUN echo %s-%d >> /x\n".formatted(salt, s));
        }
        yield d.toString();
      }
    };
  }

  private static void report(Map<String, BuildStatus> builds, Map<String, Job> jobOf, long wallMs, long cpuMs,
      long heapMiB) {
    long t0 = builds.values().stream().mapToLong(BuildStatus::getCreatedMs).min().orElse(0);
    // the contended window: until the first tenant had nothing left
    Map<String, Long> lastFinish = new TreeMap<>();
    builds.values().forEach(b -> lastFinish.merge(b.getTenant(), b.getFinishedMs(), Math::max));
    long t1 = Collections.min(lastFinish.values());
    Map<String, List<Long>> waits = new TreeMap<>();
    Map<String, List<Long>> times = new TreeMap<>();
    Map<String, Long> slot = new TreeMap<>();
    long failed = 0;
    for (BuildStatus b : builds.values()) {
      if (b.getState() != dev.stagefarm.proto.v1.BuildState.SUCCEEDED) {
        failed++;
      }
      String tenant = b.getTenant();
      times.computeIfAbsent(tenant, k -> new ArrayList<>()).add(b.getFinishedMs() - b.getCreatedMs());
      b.getStagesList().stream().filter(s -> s.getState() == StageState.STAGE_DONE)
          .mapToLong(StageStatus::getStartedMs).min()
          .ifPresent(first -> waits.computeIfAbsent(tenant, k -> new ArrayList<>()).add(first - b.getCreatedMs()));
      for (StageStatus s : b.getStagesList()) {
        if (s.getState() == StageState.STAGE_DONE) {
          long from = Math.max(s.getStartedMs(), t0);
          long to = Math.min(s.getFinishedMs(), t1);
          slot.merge(tenant, Math.max(0, to - from), Long::sum);
        }
      }
      slot.putIfAbsent(tenant, slot.getOrDefault(tenant, 0L));
    }
    double totalSlot = slot.values().stream().mapToLong(Long::longValue).sum();
    System.out.printf(Locale.ROOT, "%n%d builds (%d failed) of %d tenants on 8 slots in %.1f s: %.1f builds/min%n",
        builds.size(), failed, lastFinish.size(), wallMs / 1000.0, builds.size() * 60_000.0 / wallMs);
    System.out.printf(Locale.ROOT, "contended window (every tenant still had work): %.1f s%n", (t1 - t0) / 1000.0);
    System.out.printf(Locale.ROOT, "%-7s %8s %8s %8s   %8s %8s %8s   %9s %7s%n", "tenant", "wait p50", "p95", "p99",
        "build p50", "p95", "p99", "slot share", "weight");
    double sum = 0;
    double sumSq = 0;
    for (String tenant : lastFinish.keySet()) {
      double share = totalSlot == 0 ? 0 : slot.get(tenant) / totalSlot;
      sum += share;
      sumSq += share * share;
      List<Long> w = waits.getOrDefault(tenant, List.of());
      List<Long> t = times.get(tenant);
      System.out.printf(Locale.ROOT, "%-7s %7.1fs %7.1fs %7.1fs   %8.1fs %7.1fs %7.1fs   %8.1f%% %7s%n", tenant,
          pct(w, 50), pct(w, 95), pct(w, 99), pct(t, 50), pct(t, 95), pct(t, 99), share * 100,
          "1/" + lastFinish.size());
    }
    double jain = sumSq == 0 ? 0 : sum * sum / (lastFinish.size() * sumSq);
    System.out.printf(Locale.ROOT, "Jain's fairness index of slot-time share / weight: %.3f%n", jain);
    System.out.printf(Locale.ROOT, "JVM (coordinator, 2 workers, Kafka, S3 in one process): heap after GC %d MiB,"
        + " CPU %.1f s over %.1f s (%.2f cores)%n", heapMiB, cpuMs / 1000.0, wallMs / 1000.0, cpuMs / (double) wallMs);
  }

  private static double pct(List<Long> values, int p) {
    if (values.isEmpty()) {
      return 0;
    }
    List<Long> sorted = values.stream().sorted().toList();
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.clamp(index, 0, sorted.size() - 1)) / 1000.0;
  }

  /**
   * The scheduler's dispatch rate: 10 tenants' builds of 1,000 independent no-op stages each are
   * held; 8 slots; each dispatched stage is started and completed at once, which releases the next.
   * Measures the scheduler and fair queue (a no-op dispatcher: no Kafka, no outbox).
   */
  private static void dispatchRate() {
    Deque<String[]> out = new ArrayDeque<>();
    Scheduler scheduler = new Scheduler(Clock.systemUTC(), new Scheduler.Settings(Duration.ofSeconds(30), 3),
        (b, s, a, in) -> out.add(new String[] {b, s, Integer.toString(a)}), SchedulerListener.NONE);
    scheduler.setCapacity(8);
    for (int t = 0; t < 10; t++) {
      List<StageSpec> stages = IntStream.range(0, 1_000).mapToObj(i -> StageSpec.of("s" + i, List.of(), "", 1))
          .toList();
      scheduler.submit("b" + t, stages, new Scheduler.BuildClass("t" + t, 1, 0));
    }
    StageResult result = new StageResult(List.of(), new byte[0], "noop");
    long begin = System.nanoTime();
    int dispatched = 0;
    while (!out.isEmpty()) {
      String[] task = out.poll();
      int attempt = Integer.parseInt(task[2]);
      scheduler.onStarted(task[0], task[1], attempt, "w");
      scheduler.onCompleted(task[0], task[1], attempt, result);
      dispatched++;
    }
    double seconds = (System.nanoTime() - begin) / 1e9;
    System.out.printf(Locale.ROOT, "scheduler dispatch with 10,000 queued no-op stages (10 tenants, 8 slots):"
        + " %d dispatches in %.2f s = %.0f/s%n", dispatched, seconds, dispatched / seconds);

  }
}
