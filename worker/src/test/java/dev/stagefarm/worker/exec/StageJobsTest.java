package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.BlobNotFoundException;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.ProgramCodec;
import dev.stagefarm.worker.ProgramBuilder;
import dev.stagefarm.worker.store.InMemoryContentStore;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageProgram;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.UserError;
import org.junit.jupiter.api.Test;

/** Tasks a worker cannot execute as they are fail for good, naming why. */
class StageJobsTest {
  private static final FarmKeys KEYS = FarmKeys.generate();
  private final InMemoryContentStore store = new InMemoryContentStore();

  @Test
  void aNewerTaskSchemaIsRefused() {
    StageTask task = StageTask.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION + 1)
        .setProgram(StageProgram.newBuilder().setVersion(1)).build();
    assertThatThrownBy(() -> StageJobs.decode(task, store, KEYS)).isInstanceOf(UserError.class)
        .hasMessageContaining("schema version " + (Topics.SCHEMA_VERSION + 1)).hasMessageContaining("newer");
  }

  @Test
  void aTaskWithoutAProgramIsRefused() {
    StageTask task = StageTask.newBuilder().setSchemaVersion(1).build();
    assertThatThrownBy(() -> StageJobs.decode(task, store, KEYS)).isInstanceOf(UserError.class)
        .hasMessageContaining("carries no stage program");
  }

  @Test
  void aNewerProgramVersionIsRefused() {
    int newer = dev.stagefarm.program.StageProgram.VERSION + 1;
    StageTask task = StageTask.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION)
        .setProgram(StageProgram.newBuilder().setVersion(newer)).build();
    assertThatThrownBy(() -> StageJobs.decode(task, store, KEYS)).isInstanceOf(UserError.class)
        .hasMessageContaining("program's version " + newer).hasMessageContaining("newer");
  }

  @Test
  void aProgramStoredApartFromItsTaskIsReadFromTheStore() throws Exception {
    StageProgram wire = ProgramCodec.toProto(ProgramBuilder.program().run("true").build());
    Digest digest = store.putProgram(wire.toByteArray());
    StageTask task = StageTask.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION)
        .setProgramDigest(digest.toString()).build();

    assertThat(StageJobs.decode(task, store, KEYS).program()).isEqualTo(ProgramCodec.fromProto(wire));
  }

  @Test
  void aTaskWhoseLayersOnlyFeedOtherStagesIsSnapshottedUncompressedAndAnyOtherWithGzip() throws Exception {
    StageTask.Builder task = StageTask.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION)
        .setProgram(ProgramCodec.toProto(ProgramBuilder.program().run("true").build()));

    assertThat(StageJobs.decode(task.build(), store, KEYS).layerCompression())
        .isEqualTo(dev.stagefarm.oci.Compression.GZIP); // unset: an older coordinator, or the target's chain
    assertThat(StageJobs.decode(task.setInternalLayers(true).build(), store, KEYS).layerCompression())
        .isEqualTo(dev.stagefarm.oci.Compression.NONE);
  }

  @Test
  void aStoredProgramThatIsMissingIsAnInfrastructureFault() {
    StageTask task = StageTask.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION)
        .setProgramDigest(Digest.of("gone").toString()).build();

    assertThatThrownBy(() -> StageJobs.decode(task, store, KEYS)).isInstanceOf(BlobNotFoundException.class);
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
    assertThatThrownBy(() -> StageJobs.decode(task, store, KEYS)).isInstanceOf(UserError.class)
        .hasMessageContaining("invalid stage program");
  }
}
