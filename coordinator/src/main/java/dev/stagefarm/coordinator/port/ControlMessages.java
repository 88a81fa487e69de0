package dev.stagefarm.coordinator.port;

import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.ControlMessage;
import java.time.Clock;

/**
 * The control messages a {@link WorkerControl} sends, whatever carries them (the control topic, the
 * in-process bus): one schema in one place, so the transports differ only in how they sign and send.
 */
public final class ControlMessages {
  private final Clock clock;

  public ControlMessages(Clock clock) {
    this.clock = clock;
  }

  public ControlMessage buildEnded(String buildId, String reason) {
    return message(buildId).setBuildEnded(ControlMessage.BuildEnded.newBuilder().setReason(reason)).build();
  }

  public ControlMessage attemptIssued(String buildId, String stageId, int attempt) {
    return message(buildId)
        .setAttemptIssued(ControlMessage.AttemptIssued.newBuilder().setStageId(stageId).setAttempt(attempt))
        .build();
  }

  private ControlMessage.Builder message(String buildId) {
    return ControlMessage.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setBuildId(buildId)
        .setTimestampMs(clock.millis());
  }
}
