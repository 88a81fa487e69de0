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

  static final List<BuildProgress> BUILD =
      List.of(
          stage("0-build", "build", StageState.STAGE_QUEUED, "", 0, 0),
          stage("0-build", "build", StageState.STAGE_RUNNING, "worker-1", 1000, 0),
          log("0-build", "compiling\nlinking"),
          log("0-build", " done\n"),
          BuildProgress.newBuilder()
              .setLogStageId("0-build")
              .setInstruction(StageEvent.InstructionDone.newBuilder().setInstructionIndex(0).setStartedMs(1000).setFinishedMs(2500))
              .build(),
          stage("0-build", "build", StageState.STAGE_DONE, "worker-1", 1000, 3000),
          stage("1", "1", StageState.STAGE_CACHED, "", 3000, 3000));

  @Test
  void plainModePrintsOneLinePerEventAndJoinsSplitOutputLines() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PlainProgress view = new PlainProgress(new PrintStream(out, true, StandardCharsets.UTF_8))) {
      BUILD.forEach(view::show);
    }
    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            """
            [build] queued
            [build] running on worker-1
            [build] compiling
            [build] linking done
            [build] step 1 done 1.5s
            [build] DONE 2.0s
            [1] CACHED
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
