package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.program.InvalidProgramException;
import dev.stagefarm.program.ProgramCodec;
import dev.stagefarm.program.ProgramInput;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageInput;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.wire.WireLayers;
import java.util.HashMap;
import java.util.Map;

/**
 * Decodes a task from the wire into a {@link StageJob}, and a result back. A task this worker
 * cannot execute as it is (a newer schema or program version, a malformed program, a missing
 * input) fails the same way on every worker of this version: a {@link UserError}, not retried.
 */
final class StageJobs {
  private StageJobs() {}

  static StageJob decode(StageTask task) throws UserError {
    if (task.getSchemaVersion() > Topics.SCHEMA_VERSION) {
      throw new UserError("the task's schema version " + task.getSchemaVersion()
          + " is newer than this worker understands (" + Topics.SCHEMA_VERSION + "); upgrade the workers");
    }
    if (task.getSchemaVersion() < Topics.SCHEMA_VERSION || !task.hasProgram()) {
      throw new UserError("the task (schema version " + task.getSchemaVersion()
          + ") carries no stage program; this worker executes schema " + Topics.SCHEMA_VERSION + " tasks");
    }
    if (task.getProgram().getVersion() > StageProgram.VERSION) {
      throw new UserError("the stage program's version " + task.getProgram().getVersion()
          + " is newer than this worker understands (" + StageProgram.VERSION + "); upgrade the workers");
    }
    StageProgram program;
    try {
      program = ProgramCodec.fromProto(task.getProgram());
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
        task.getReuseCachedInstructions());
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
