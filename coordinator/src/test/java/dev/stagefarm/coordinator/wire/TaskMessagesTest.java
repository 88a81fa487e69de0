package dev.stagefarm.coordinator.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.port.ProgramRef;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.StageProgram;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TaskMessagesTest {
  static final StageProgram PROGRAM = new StageProgram(StageProgram.VERSION, new ProgramBase.Scratch(), List.of(),
      List.of(), Platform.LINUX_AMD64, new CacheKey("0".repeat(64)), Optional.empty(), "build");

  static StageJob job(boolean internalLayers) {
    return new StageJob("b1", "0-build", "build", 1, true, new ProgramRef.Inline(PROGRAM),
        new StageResult(List.of(), new byte[0], "scratch"), Map.of(), false, StageJob.Deadline.NONE, internalLayers);
  }

  @Test
  void aStageWhoseLayersOnlyFeedOtherStagesSaysSoInItsTask() {
    assertThat(TaskMessages.toProto(job(true)).getInternalLayers()).isTrue();
    assertThat(TaskMessages.toProto(job(false)).getInternalLayers()).isFalse();
    // a job made without saying (tests, older callers) keeps its layers compressed
    assertThat(new StageJob("b1", "0-build", "build", 1, true, new ProgramRef.Inline(PROGRAM),
        new StageResult(List.of(), new byte[0], "scratch"), Map.of()).internalLayers()).isFalse();
  }
}
