package dev.stagefarm.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.runtime.ContainerSpec;
import dev.stagefarm.worker.runtime.OciBundle;
import dev.stagefarm.worker.runtime.ResolvedUser;
import dev.stagefarm.worker.runtime.Runc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Measures the worker's per-stage overhead and prints it (tests never assert wall-clock times):
 * task taken → RUN started, RUN step duration vs a plain {@code runc run} of the same command, and
 * RUN finished → completion event. Asserts only that the events come in a sane order.
 */
class StageOverheadTest {
  private static final int ROUNDS = 5;
  private static StageHarness farm;

  @BeforeAll
  static void start() throws Exception {
    farm = new StageHarness(1);
  }

  @AfterAll
  static void stop() {
    farm.close();
  }

  @Test
  void measuresStageOverheadAgainstPlainRunc() throws Exception {
    long[] cold = timings(farm.task(ProgramBuilder.program().run("true").build(), farm.busybox()).build()); // empty layer cache
    List<long[]> noChange = new ArrayList<>();
    List<long[]> withLayer = new ArrayList<>();
    for (int i = 0; i < ROUNDS; i++) {
      noChange.add(timings(farm.task(ProgramBuilder.program().run("true").build(), farm.busybox()).build()));
      withLayer.add(timings(farm.task(ProgramBuilder.program().run("echo " + i + " > /f").build(), farm.busybox()).build()));
    }
    long[] plain = plainRunc();
    System.out.printf("""
        stagefarm worker overhead (median of %d, ms):
          first stage, cold layer cache: taken -> RUN started %d, RUN true step %d
          task taken -> RUN started:            %d
          RUN true step (mount+runc+cleanup):   %d   (plain runc run: %d)
          RUN echo > /f step (+layer upload):   %d
          RUN finished -> completion event:     %d (no layer) / %d (with layer)
        """, ROUNDS, cold[0], cold[1], median(noChange, 0), median(noChange, 1), plain[0], median(withLayer, 1),
        median(noChange, 2), median(withLayer, 2));
  }

  /** [taken→RUN started, RUN duration, RUN finished→completed] of one stage. */
  private static long[] timings(StageTask task) {
    StageEvent outcome = farm.run(task);
    var result = StageHarness.completed(outcome);
    if (task.getProgram().getOps(0).getExec().getArgvList().contains("true")) {
      assertThat(result.getLayersCount()).as("RUN true changes nothing: no layer").isEqualTo(task.getBase().getLayersCount());
    }
    farm.drainEvents(java.time.Duration.ofMillis(200));
    List<StageEvent> events = farm.events(task.getBuildId());
    StageEvent started = events.stream().filter(dev.stagefarm.proto.StageRuns::marksRun).findFirst().orElseThrow();
    StageEvent.InstructionDone run = events.stream().filter(StageEvent::hasInstructionDone).findFirst().orElseThrow()
        .getInstructionDone();
    long[] t = {
      run.getStartedMs() - dev.stagefarm.proto.StageRuns.runStartedMs(started),
      run.getFinishedMs() - run.getStartedMs(),
      outcome.getTimestampMs() - run.getFinishedMs()};
    assertThat(java.util.Arrays.stream(t).boxed().toList()).allSatisfy(v -> assertThat(v).isNotNegative());
    return t;
  }

  /** A plain runc run of {@code true} on the unpacked busybox rootfs, same bundle generator: median ms. */
  private static long[] plainRunc() throws Exception {
    Path rootfs = farm.unpack(farm.busybox());
    Path bundleDir = Files.createTempDirectory(farm.workDir, "plain-bundle-");
    ContainerSpec spec = new ContainerSpec(rootfs, List.of("/bin/sh", "-c", "true"), List.of("PATH=/bin"), "/",
        ResolvedUser.ROOT, "plain", ContainerSpec.Network.HOST, List.of());
    new OciBundle(Worker.nofileHardLimit()).write(bundleDir, spec, "");
    Runc runc = new Runc("runc", farm.workDir.resolve("plain-runc"));
    List<long[]> runs = new ArrayList<>();
    for (int i = 0; i < ROUNDS + 1; i++) {
      long t0 = System.nanoTime();
      int exit = runc.run("plain-" + i, bundleDir, (b, n, e) -> { });
      long ms = (System.nanoTime() - t0) / 1_000_000;
      runc.delete("plain-" + i);
      assertThat(exit).isZero();
      if (i > 0) {
        runs.add(new long[] {ms});
      }
    }
    return new long[] {median(runs, 0)};
  }

  private static long median(List<long[]> rows, int column) {
    List<Long> values = new ArrayList<>(rows.stream().map(r -> r[column]).sorted().toList());
    return values.get(values.size() / 2);
  }
}
