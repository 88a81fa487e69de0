package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageProgram;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.UserError;
import org.junit.jupiter.api.Test;

/** Tasks a worker cannot execute as they are fail for good, naming why. */
class StageJobsTest {
  @Test
  void aNewerTaskSchemaIsRefused() {
    StageTask task = StageTask.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION + 1)
        .setProgram(StageProgram.newBuilder().setVersion(1)).build();
    assertThatThrownBy(() -> StageJobs.decode(task)).isInstanceOf(UserError.class)
        .hasMessageContaining("schema version " + (Topics.SCHEMA_VERSION + 1)).hasMessageContaining("newer");
  }

  @Test
  void aTaskWithoutAProgramIsRefused() {
    StageTask task = StageTask.newBuilder().setSchemaVersion(1).build();
    assertThatThrownBy(() -> StageJobs.decode(task)).isInstanceOf(UserError.class)
        .hasMessageContaining("carries no stage program");
  }

  @Test
  void aNewerProgramVersionIsRefused() {
    int newer = dev.stagefarm.program.StageProgram.VERSION + 1;
    StageTask task = StageTask.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION)
        .setProgram(StageProgram.newBuilder().setVersion(newer)).build();
    assertThatThrownBy(() -> StageJobs.decode(task)).isInstanceOf(UserError.class)
        .hasMessageContaining("program's version " + newer).hasMessageContaining("newer");
  }

  @Test
  void anInvalidProgramIsRefusedNamingTheProblem() {
    // an op with a relative COPY destination: ProgramCodec rejects it
    StageTask task = StageTask.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION)
        .setProgram(StageProgram.newBuilder().setVersion(1).setRootKey("0".repeat(64))
            .setBase(dev.stagefarm.proto.v1.ProgramBase.newBuilder().setScratch(true))
            .addOps(dev.stagefarm.proto.v1.Op.newBuilder().setCopy(
                dev.stagefarm.proto.v1.CopyOp.newBuilder().setDest("relative/dest"))))
        .build();
    assertThatThrownBy(() -> StageJobs.decode(task)).isInstanceOf(UserError.class)
        .hasMessageContaining("invalid stage program");
  }
}
