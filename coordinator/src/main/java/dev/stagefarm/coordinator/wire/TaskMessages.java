package dev.stagefarm.coordinator.wire;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.port.ProgramRef;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.program.ProgramCodec;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageInput;
import dev.stagefarm.proto.v1.StageTask;
import java.util.Map;

/** A {@link StageJob} as the {@code StageTask} a worker reads from the task topic. */
public final class TaskMessages {
  private TaskMessages() {}

  public static StageTask toProto(StageJob job) {
    StageTask.Builder task =
        StageTask.newBuilder()
            .setSchemaVersion(Topics.SCHEMA_VERSION)
            .setBuildId(job.buildId())
            .setStageId(job.stageId())
            .setStageName(job.stageName())
            .setAttempt(job.attempt())
            .setReuseCachedInstructions(job.reuseCachedOps())
            .setBuildSecrets(job.buildSecrets())
            .setDeadlineEpochMs(job.deadline().buildDeadlineEpochMs())
            .setStageTimeoutMs(job.deadline().stageTimeoutMs())
            .setInternalLayers(job.internalLayers())
            .setBase(ContentMessages.toProto(job.base()))
            .setProgramVersion(job.program().version())
            .setCacheScope(job.cacheScope())
            .setTraceParent(job.trace().parent())
            .setTraceState(job.trace().state());
    switch (job.program()) {
      case ProgramRef.Inline inline -> task.setProgram(ProgramCodec.toProto(inline.program()));
      case ProgramRef.Stored stored -> task.setProgramDigest(stored.digest().toString());
    }
    for (Map.Entry<String, StageResult> input : job.inputs().entrySet()) {
      task.addInputs(
          StageInput.newBuilder().setName(input.getKey()).setResult(ContentMessages.toProto(input.getValue())));
    }
    return task.build();
  }
}
