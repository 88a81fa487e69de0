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
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressViewsTest {
  static BuildProgress stage(String id, String name, StageState state, String worker, long start, long end) {
    return BuildProgress.newBuilder()
        .setStage(StageStatus.newBuilder().setStageId(id).setName(name).setState(state).setWorkerId(worker)
            .setAttempt(1).setStartedMs(start).setFinishedMs(end))
        .build();
  }

  static BuildProgress log(String id, String text) {
    return BuildProgress.newBuilder()
        .setLogStageId(id)
        .setLog(StageEvent.LogChunk.newBuilder().setData(ByteString.copyFromUtf8(text)))
        .build();
  }

  static BuildProgress withSteps(BuildProgress progress, String... steps) {
    return progress.toBuilder().setStage(progress.getStage().toBuilder().addAllSteps(List.of(steps))).build();
  }

  static final List<BuildProgress> BUILD =
      List.of(
          withSteps(stage("0-build", "build", StageState.STAGE_QUEUED, "", 0, 0), "RUN make", "COPY out /out"),
          stage("0-build", "build", StageState.STAGE_RUNNING, "worker-1", 1000, 0),
          log("0-build", "compiling\nlinking"),
          log("0-build", " done\n"),
          BuildProgress.newBuilder()
              .setLogStageId("0-build")
              .setInstruction(StageEvent.InstructionDone.newBuilder().setInstructionIndex(0).setStartedMs(1000).setFinishedMs(2500))
              .build(),
          BuildProgress.newBuilder()
              .setLogStageId("0-build")
              .setInstruction(StageEvent.InstructionDone.newBuilder().setInstructionIndex(1).setCached(true))
              .build(),
          stage("0-build", "build", StageState.STAGE_DONE, "worker-1", 1000, 3000),
          withSteps(stage("1", "1", StageState.STAGE_CACHED, "", 3000, 3000), "WORKDIR /app"));

  @Test
  void plainModeNamesEachStepWithItsInstructionLikeBuildKit() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long[] now = {1000};
    try (PlainProgress view = new PlainProgress(new PrintStream(out, true, StandardCharsets.UTF_8), () -> now[0])) {
      view.phaseStarted("load build context");
      now[0] = 1300;
      view.phaseDone("transferring context: 2 files");
      for (BuildProgress entry : BUILD) {
        now[0] += 100;
        view.show(entry);
      }
    }
    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            """
            #1 [internal] load build context
            #1 transferring context: 2 files
            #1 DONE 0.3s

            #2 [build] running on worker-1
            #3 [build 1/2] RUN make
            #3 0.000 compiling
            #3 0.100 linking done
            #3 DONE 1.5s

            #4 [build 2/2] COPY out /out
            #4 CACHED

            #2 [build] DONE 2.0s
            #5 [1 1/1] WORKDIR /app
            #5 CACHED

            """);
  }

  @Test
  void rawJsonModePrintsSolveStatusLinesWithVertexesAndBase64Logs() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (RawJsonProgress view = new RawJsonProgress(new PrintStream(out, true, StandardCharsets.UTF_8), () -> 5000)) {
      BUILD.forEach(view::show);
    }
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    List<com.fasterxml.jackson.databind.JsonNode> lines = out.toString(StandardCharsets.UTF_8).lines()
        .map(line -> {
          try {
            return json.readTree(line);
          } catch (Exception e) {
            throw new AssertionError("not JSON: " + line, e);
          }
        })
        .toList();
    var logs = lines.stream().filter(l -> l.has("logs")).map(l -> l.get("logs").get(0)).toList();
    assertThat(logs).hasSize(2);
    assertThat(new String(logs.get(0).get("data").binaryValue(), StandardCharsets.UTF_8)).isEqualTo("compiling\nlinking");
    assertThat(logs.get(0).get("stream").asInt()).isEqualTo(1);
    var vertexes = lines.stream().filter(l -> l.has("vertexes")).flatMap(l -> java.util.stream.StreamSupport.stream(
        l.get("vertexes").spliterator(), false)).toList();
    assertThat(vertexes).anySatisfy(v -> {
      assertThat(v.get("name").asText()).isEqualTo("[build 1/2] RUN make");
      assertThat(v.path("completed").asText()).isEqualTo("1970-01-01T00:00:02.500Z");
    });
    assertThat(vertexes).anySatisfy(v -> {
      assertThat(v.get("name").asText()).isEqualTo("[build 2/2] COPY out /out");
      assertThat(v.path("cached").asBoolean()).isTrue();
    });
    assertThat(logs.get(0).get("vertex").asText())
        .isEqualTo(vertexes.stream().filter(v -> v.get("name").asText().startsWith("[build 1/2]")).findFirst()
            .orElseThrow().get("digest").asText())
        .startsWith("sha256:");
  }

  @Test
  void rawJsonModeGivesTheContextUploadAByteCounterStatusOnItsVertex() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (RawJsonProgress view = new RawJsonProgress(new PrintStream(out, true, StandardCharsets.UTF_8), () -> 5000)) {
      view.phaseStarted("load build context");
      view.transferred("transferring context", 1234, 1234);
      view.phaseDone("transferring context: 2 files");
    }
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    var vertex = json.readTree(lines.get(0)).get("vertexes").get(0);
    var status = json.readTree(lines.get(1)).get("statuses").get(0);
    assertThat(status.get("vertex").asText()).isEqualTo(vertex.get("digest").asText());
    assertThat(status.get("id").asText()).isEqualTo("transferring context");
    assertThat(status.get("current").asLong()).isEqualTo(1234);
    assertThat(status.get("total").asLong()).isEqualTo(1234);
    assertThat(status.get("completed").asText()).isEqualTo("1970-01-01T00:00:05Z");
  }

  @Test
  void plainModeSaysWhenTheSameAttemptMovesToAnotherWorker() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PlainProgress view = new PlainProgress(new PrintStream(out, true, StandardCharsets.UTF_8), () -> 0)) {
      view.show(stage("0", "0", StageState.STAGE_RUNNING, "worker-1", 1000, 0));
      view.show(stage("0", "0", StageState.STAGE_RUNNING, "worker-2", 1000, 0));
    }
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("""
        #1 [0] running on worker-1
        #1 [0] lost on worker-1 (its lease on the task ran out); running on worker-2
        """);
  }

  @Test
  void ttyModeRedrawsOneLinePerStage() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TtyProgress view = new TtyProgress(new PrintStream(out, true, StandardCharsets.UTF_8))) {
      BUILD.forEach(view::show);
    }
    String text = out.toString(StandardCharsets.UTF_8);
    String lastFrame = text.substring(text.lastIndexOf("[+] building"));
    assertThat(lastFrame).contains(" => build: DONE 2.0s\n").contains(" => 1: CACHED\n");
    assertThat(text).contains("\u001b["); // cursor movement between frames
  }
}
