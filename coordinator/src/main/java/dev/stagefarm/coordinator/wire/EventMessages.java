package dev.stagefarm.coordinator.wire;

import com.google.protobuf.ByteString;
import dev.stagefarm.coordinator.WorkerEvent;
import dev.stagefarm.proto.v1.StageEvent;
import java.util.Optional;

/** Worker events from the event topic's {@code StageEvent}s, and back for the progress stream. */
public final class EventMessages {
  private EventMessages() {}

  /**
   * The event, or empty for a kind this coordinator does not know.
   *
   * @throws IllegalArgumentException when a layer or result in it has a malformed digest
   */
  public static Optional<WorkerEvent> fromProto(StageEvent event) {
    WorkerEvent.Kind kind =
        switch (event.getKindCase()) {
          case STARTED -> new WorkerEvent.Started(Math.max(1, event.getDeliveryCount()));
          case HEARTBEAT -> new WorkerEvent.Heartbeat();
          case LOG -> {
            StageEvent.LogChunk log = event.getLog();
            yield new WorkerEvent.Log(log.getInstructionIndex(), log.getData().toByteArray(), log.getStderr());
          }
          case INSTRUCTION_DONE -> {
            StageEvent.InstructionDone done = event.getInstructionDone();
            yield new WorkerEvent.OpDone(
                done.getInstructionIndex(),
                done.hasLayer() ? Optional.of(ContentMessages.fromProto(done.getLayer())) : Optional.empty(),
                done.getCached(),
                done.getStartedMs(),
                done.getFinishedMs());
          }
          case COMPLETED -> {
            StageEvent.Completed completed = event.getCompleted();
            // started_ms set: no started event went out for this attempt (docs/protocol.md)
            long ranMs = completed.getStartedMs() > 0 ? Math.max(0, event.getTimestampMs() - completed.getStartedMs()) : -1;
            yield new WorkerEvent.Completed(ContentMessages.fromProto(completed.getResult()), ranMs,
                Math.max(1, event.getDeliveryCount()));
          }
          case FAILED -> {
            StageEvent.Failed failed = event.getFailed();
            yield new WorkerEvent.Failed(
                failed.getInstructionIndex(),
                failed.getLine(),
                failed.getExitCode(),
                failed.getMessage(),
                failed.getOutputTail(),
                failed.getRetriable(),
                failed.getDeadline());
          }
          case WORKER_PRESENT -> {
            java.util.List<dev.stagefarm.oci.Platform> platforms = new java.util.ArrayList<>();
            for (String text : event.getWorkerPresent().getPlatformsList()) {
              String[] parts = text.split("/", -1);
              if (parts.length < 2 || parts.length > 3) {
                throw new IllegalArgumentException("a worker announced the malformed platform \"" + text + "\"");
              }
              platforms.add(new dev.stagefarm.oci.Platform(parts[0], parts[1], parts.length == 3 ? parts[2] : ""));
            }
            StageEvent.WorkerPresent present = event.getWorkerPresent();
            yield new WorkerEvent.Present(platforms, present.getSlots(), present.getFree(), present.getIntervalMs(),
                event.getTimestampMs());
          }
          case KIND_NOT_SET -> null;
        };
    return Optional.ofNullable(kind)
        .map(k -> new WorkerEvent(event.getBuildId(), event.getStageId(), event.getAttempt(), event.getWorkerId(), k));
  }

  public static StageEvent.LogChunk toProto(WorkerEvent.Log log) {
    return StageEvent.LogChunk.newBuilder()
        .setInstructionIndex(log.opIndex())
        .setData(ByteString.copyFrom(log.data()))
        .setStderr(log.stderr())
        .build();
  }

  public static StageEvent.InstructionDone toProto(WorkerEvent.OpDone done) {
    StageEvent.InstructionDone.Builder proto =
        StageEvent.InstructionDone.newBuilder()
            .setInstructionIndex(done.opIndex())
            .setCached(done.cached())
            .setStartedMs(done.startedMs())
            .setFinishedMs(done.finishedMs());
    done.layer().ifPresent(layer -> proto.setLayer(ContentMessages.toProto(layer)));
    return proto.build();
  }
}
