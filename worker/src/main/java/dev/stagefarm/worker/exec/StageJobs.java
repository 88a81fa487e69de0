package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.Compression;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.program.BuildSecrets;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.InvalidProgramException;
import dev.stagefarm.program.ProgramCodec;
import dev.stagefarm.program.ProgramInput;
import dev.stagefarm.program.SecretSeal;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageInput;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.store.ContentStore;
import dev.stagefarm.worker.wire.WireLayers;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

/**
 * Decodes a task from the wire into a {@link StageJob}, and a result back. A task this worker
 * cannot execute as it is (a newer schema or program version, a malformed program, a missing
 * input) fails the same way on every worker of this version: a {@link UserError}, not retried.
 */
final class StageJobs {
  private StageJobs() {}

  /** The largest program a worker reads from the store (a task record carries at most 1 MiB). */
  static final int MAX_PROGRAM_BYTES = 64 << 20;
  /** The largest sealed secrets a worker reads (a build sends at most 1 MiB of values). */
  static final int MAX_SEALED_SECRETS_BYTES = 4 << 20;

  /**
   * @throws IOException when a program stored apart from the task cannot be read (an
   *     infrastructure fault: the coordinator stored it before it published the task)
   */
  static StageJob decode(StageTask task, ContentStore store, FarmKeys keys) throws UserError, IOException {
    if (task.getSchemaVersion() > Topics.SCHEMA_VERSION) {
      throw new UserError("the task's schema version " + task.getSchemaVersion()
          + " is newer than this worker understands (" + Topics.SCHEMA_VERSION + "); upgrade the workers");
    }
    if (task.getSchemaVersion() < Topics.SCHEMA_VERSION || (!task.hasProgram() && task.getProgramDigest().isEmpty())) {
      throw new UserError("the task (schema version " + task.getSchemaVersion()
          + ") carries no stage program; this worker executes schema " + Topics.SCHEMA_VERSION + " tasks");
    }
    dev.stagefarm.proto.v1.StageProgram wire = task.hasProgram() ? task.getProgram() : stored(task, store);
    if (wire.getVersion() > StageProgram.VERSION) {
      throw new UserError("the stage program's version " + wire.getVersion()
          + " is newer than this worker understands (" + StageProgram.VERSION + "); upgrade the workers");
    }
    StageProgram program;
    try {
      program = ProgramCodec.fromProto(wire);
    } catch (InvalidProgramException e) {
      throw new UserError("invalid stage program: " + e.getMessage());
    }
    Map<String, StageState> results = new HashMap<>();
    for (StageInput input : task.getInputsList()) {
      results.put(input.getName(), state(input.getResult(), program.platform(), input.getName()));
    }
    Map<String, StageState> inputs = new HashMap<>();
    for (ProgramInput input : program.inputs()) {
      StageState result = results.get(input.id());
      if (result == null) {
        throw new UserError("the task carries no result for " + input.id() + " ('" + input.name()
            + "', read by --from or from=)");
      }
      inputs.put(input.id(), result);
    }
    return new StageJob(program, state(task.getBase(), program.platform(), "the base"), inputs,
        task.getReuseCachedInstructions(), secrets(task, store, keys),
        task.getInternalLayers() ? Compression.NONE : Compression.GZIP, task.getCacheScope());
  }

  /**
   * The secrets the build's client sent, opened in memory. Only a task that says the build has
   * secrets reads them, and only those sealed for its own build id open with its key.
   */
  private static BuildSecrets secrets(StageTask task, ContentStore store, FarmKeys keys)
      throws UserError, IOException {
    if (!task.getBuildSecrets()) {
      return BuildSecrets.NONE;
    }
    String buildId = task.getBuildId();
    byte[] sealed = store.readSealedSecrets(buildId, MAX_SEALED_SECRETS_BYTES)
        .orElseThrow(() -> new UserError("the secrets of build " + buildId
            + " are no longer in the store (the build has ended)"));
    try {
      return BuildSecrets.of(SecretSeal.open(keys, SecretSeal.Kind.BUILD_SECRETS, buildId, sealed));
    } catch (SecretSeal.SealException e) {
      throw new UserError("the build's secrets cannot be opened: " + e.getMessage());
    }
  }

  /** A program stored apart from its task: read (bounded), checked against its digest, parsed. */
  private static dev.stagefarm.proto.v1.StageProgram stored(StageTask task, ContentStore store)
      throws UserError, IOException {
    Digest digest;
    try {
      digest = Digest.parse(task.getProgramDigest());
    } catch (RuntimeException e) {
      throw new UserError("the task's program digest \"" + task.getProgramDigest() + "\" is not a digest");
    }
    byte[] bytes;
    try (InputStream in = store.openProgram(digest)) {
      bytes = in.readNBytes(MAX_PROGRAM_BYTES + 1);
    }
    if (bytes.length > MAX_PROGRAM_BYTES) {
      throw new UserError("the stage program " + digest + " is larger than the limit of "
          + (MAX_PROGRAM_BYTES >> 20) + " MiB a worker reads");
    }
    if (!Digest.of(bytes).equals(digest)) {
      throw new IOException("the stored stage program " + digest + " does not match its digest");
    }
    try {
      return dev.stagefarm.proto.v1.StageProgram.parseFrom(bytes);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new UserError("the stored stage program " + digest + " is unreadable: " + e.getMessage());
    }
  }

  /** The result as the task's completion carries it. */
  static ImageState encode(StageState result, StageProgram program) {
    return ImageState.newBuilder()
        .addAllLayers(result.layers().stream().map(WireLayers::toProto).toList())
        .setConfigJson(com.google.protobuf.ByteString.copyFrom(ImageJson.writeConfig(result.config())))
        .setOrigin("stage:" + program.stageName())
        .build();
  }

  private static StageState state(ImageState state, Platform platform, String what) throws UserError {
    try {
      ImageConfig config = state.getConfigJson().isEmpty()
          ? ImageConfig.scratch(platform)
          : ImageJson.readConfig(state.getConfigJson().toByteArray());
      return new StageState(state.getLayersList().stream().map(WireLayers::fromProto).toList(), config);
    } catch (RuntimeException e) { // a malformed digest or config JSON from the producer
      throw new UserError("the task's state of " + what + " is malformed: " + e.getMessage());
    }
  }
}
