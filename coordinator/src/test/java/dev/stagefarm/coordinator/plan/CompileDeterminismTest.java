package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.CodedOutputStream;
import dev.stagefarm.program.ProgramCodec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The same Dockerfile, context and build args compile to the same bytes and keys, whatever the run. */
class CompileDeterminismTest {
  static byte[] bytes(PlannedStage stage) throws IOException {
    var message = ProgramCodec.toProto(stage.program());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CodedOutputStream coded = CodedOutputStream.newInstance(out);
    coded.useDeterministicSerialization();
    message.writeTo(coded);
    coded.flush();
    return out.toByteArray();
  }

  @Test
  void compilingTheSameBuildTwiceGivesByteIdenticalProgramsAndEqualKeys() throws Exception {
    // other build ids: no op of this build reads anything only its own build may see
    BuildPlan first = GoldenBuild.plan("b1");
    BuildPlan second = GoldenBuild.plan("b2");

    assertThat(second.stages()).extracting(PlannedStage::id).isEqualTo(first.stages().stream().map(PlannedStage::id).toList());
    for (int i = 0; i < first.stages().size(); i++) {
      PlannedStage a = first.stages().get(i);
      PlannedStage b = second.stages().get(i);
      assertThat(bytes(b)).as("program of %s", a.id()).isEqualTo(bytes(a));
      assertThat(b.program()).isEqualTo(a.program());
      assertThat(b.opKeys()).as("keys of %s", a.id()).isEqualTo(a.opKeys());
    }
    // and the programs are real: every op of both stages is there
    assertThat(first.stages()).extracting(s -> s.program().ops().size()).isEqualTo(List.of(6, 11));
  }
}
