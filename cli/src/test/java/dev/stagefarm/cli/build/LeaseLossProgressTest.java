package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.StageStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A stage whose first worker lost its lease on the task, run again by another worker, in the plain
 * and tty views. The entries are those the coordinator sends in that case: {@code Scheduler.onStarted}
 * names the new worker in a stage entry with the same attempt (the broker handed the task on), and
 * as it takes any event of the attempt as a sign of life, the first worker's late output names that
 * worker again ({@code onHeartbeat}) before the new worker's next event moves it back;
 * {@code BuildCoordinator} tags each log and step entry with the worker that sent it.
 */
class LeaseLossProgressTest {
  private static final List<BuildProgress> LEASE_LOST = List.of(
      running("worker-1").toBuilder().setStage(running("worker-1").getStage().toBuilder()
          .addSteps("RUN make").addSteps("COPY out /out")).build(),
      log("worker-1", "compiling\n"),
      running("worker-2"), // worker-1's lease ran out: the task was delivered to worker-2
      log("worker-2", "compiling again\n"),
      running("worker-1"), // worker-1's late output, taken as a sign of life
      log("worker-1", "late output of worker-1\n"),
      running("worker-2"),
      done("worker-2", 0, false),
      done("worker-2", 1, true),
      BuildProgress.newBuilder().setStage(StageStatus.newBuilder().setStageId("0-build").setName("build")
          .setState(StageState.STAGE_DONE).setWorkerId("worker-2").setAttempt(1).setStartedMs(1000)
          .setFinishedMs(3000)).build());

  @Test
  void plainStartsTheStepsOverOnTheNewWorkerAndLeavesOutTheLostWorkersLateOutput() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PlainProgress view = new PlainProgress(new PrintStream(out, true, StandardCharsets.UTF_8), () -> 0)) {
      LEASE_LOST.forEach(view::show);
    }

    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("""
        #1 [build] running on worker-1
        #2 [build 1/2] RUN make
        #2 0.000 compiling
        #1 [build] lost on worker-1 (its lease on the task ran out); running on worker-2
        #2 LOST with worker-1

        #3 [build 1/2] RUN make
        #3 0.000 compiling again
        #3 DONE 1.5s

        #4 [build 2/2] COPY out /out
        #4 CACHED

        #1 [build] DONE 2.0s
        """);
  }

  @Test
  void ttyShowsTheStageRunningAgainOnTheNewWorkerWithItsOwnOutput() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AtomicLong clock = new AtomicLong();
    String frame;
    try (TtyProgress view = new TtyProgress(new PrintStream(out, true, StandardCharsets.UTF_8),
        () -> new TerminalSize(120, 20), () -> clock.addAndGet(1000))) {
      LEASE_LOST.subList(0, 6).forEach(view::show); // up to worker-1's late output
      String text = out.toString(StandardCharsets.UTF_8);
      frame = text.substring(text.lastIndexOf("\u001b[J") + 3);
    }

    assertThat(frame).contains(" -> build: running on worker-2 ")
        .contains("(again: worker-1 lost its lease)")
        .contains("| compiling again")
        .doesNotContain("late output").doesNotContain("running on worker-1");
  }

  @Test
  void rawjsonEndsTheLostRunsStepWithAnErrorAndGivesTheNewRunItsOwnVertices() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (RawJsonProgress view = new RawJsonProgress(new PrintStream(out, true, StandardCharsets.UTF_8), () -> 5000)) {
      LEASE_LOST.forEach(view::show);
    }
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    Map<String, String> logVertexByText = new LinkedHashMap<>();
    List<JsonNode> vertices = new ArrayList<>();
    for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
      JsonNode status = json.readTree(line);
      status.path("vertexes").forEach(vertices::add);
      for (JsonNode log : status.path("logs")) {
        logVertexByText.put(new String(log.get("data").binaryValue(), StandardCharsets.UTF_8), log.get("vertex").asText());
      }
    }

    assertThat(logVertexByText).containsOnlyKeys("compiling\n", "compiling again\n"); // no late output of worker-1
    String lostStep = logVertexByText.get("compiling\n");
    String newStep = logVertexByText.get("compiling again\n");
    assertThat(newStep).isNotEqualTo(lostStep);
    assertThat(vertices).anySatisfy(v -> {
      assertThat(v.get("digest").asText()).isEqualTo(lostStep);
      assertThat(v.path("error").asText()).isEqualTo("lost with worker-1 (its lease on the task ran out)");
    });
    assertThat(vertices).anySatisfy(v -> {
      assertThat(v.get("digest").asText()).isEqualTo(newStep);
      assertThat(v.has("completed")).isTrue();
      assertThat(v.has("error")).isFalse();
    });
    List<String> stageNames = vertices.stream().map(v -> v.get("name").asText()).filter(n -> n.startsWith("[build] stage"))
        .toList();
    // once the stage moved to worker-2, worker-1's late sign of life does not name it again
    assertThat(stageNames.subList(stageNames.indexOf("[build] stage on worker-2"), stageNames.size()))
        .containsOnly("[build] stage on worker-2");
  }

  private static BuildProgress running(String worker) {
    return BuildProgress.newBuilder().setStage(StageStatus.newBuilder().setStageId("0-build").setName("build")
        .setState(StageState.STAGE_RUNNING).setWorkerId(worker).setAttempt(1).setStartedMs(1000)).build();
  }

  private static BuildProgress log(String worker, String text) {
    return BuildProgress.newBuilder().setLogStageId("0-build").setLogWorkerId(worker)
        .setLog(StageEvent.LogChunk.newBuilder().setData(ByteString.copyFromUtf8(text))).build();
  }

  private static BuildProgress done(String worker, int index, boolean cached) {
    return BuildProgress.newBuilder().setLogStageId("0-build").setLogWorkerId(worker)
        .setInstruction(StageEvent.InstructionDone.newBuilder().setInstructionIndex(index).setCached(cached)
            .setStartedMs(1000).setFinishedMs(2500)).build();
  }
}
