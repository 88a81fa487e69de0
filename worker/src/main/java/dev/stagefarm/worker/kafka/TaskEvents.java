package dev.stagefarm.worker.kafka;

import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.store.LayerRef;
import dev.stagefarm.worker.wire.WireLayers;
import java.util.Optional;
import java.time.Clock;

/** Builds the events of one task attempt on one worker: the envelope fields are filled once here. */
public final class TaskEvents {
  private final StageTask task;
  private final String workerId;
  private final Clock clock;
  private final int deliveryCount;

  public TaskEvents(StageTask task, String workerId, Clock clock) {
    this(task, workerId, clock, 1);
  }

  /** @param deliveryCount how often the broker has handed out the task record, this run included */
  public TaskEvents(StageTask task, String workerId, Clock clock, int deliveryCount) {
    this.task = task;
    this.workerId = workerId;
    this.clock = clock;
    this.deliveryCount = deliveryCount;
  }

  public StageEvent started() {
    return envelope().setStarted(StageEvent.Started.getDefaultInstance()).build();
  }

  public StageEvent heartbeat(int instructionIndex) {
    return envelope().setHeartbeat(StageEvent.Heartbeat.newBuilder().setInstructionIndex(instructionIndex)).build();
  }

  public StageEvent log(int instructionIndex, byte[] data, boolean stderr) {
    return envelope()
        .setLog(StageEvent.LogChunk.newBuilder()
            .setInstructionIndex(instructionIndex)
            .setData(com.google.protobuf.ByteString.copyFrom(data))
            .setStderr(stderr))
        .build();
  }

  public StageEvent instructionDone(int index, Optional<LayerRef> layer, boolean cached, long startedMs, long finishedMs) {
    StageEvent.InstructionDone.Builder done = StageEvent.InstructionDone.newBuilder()
        .setInstructionIndex(index)
        .setCached(cached)
        .setStartedMs(startedMs)
        .setFinishedMs(finishedMs);
    layer.ifPresent(l -> done.setLayer(WireLayers.toProto(l)));
    return envelope().setInstructionDone(done).build();
  }

  public StageEvent completed(ImageState result) {
    return envelope().setCompleted(StageEvent.Completed.newBuilder().setResult(result)).build();
  }

  /**
   * The completion of a stage for which no {@code started} went out (it ended within the start
   * delay): it says when the stage started, {@code startedMs} by this worker's clock.
   */
  public StageEvent completedUnannounced(ImageState result, long startedMs) {
    return envelope().setCompleted(StageEvent.Completed.newBuilder().setResult(result).setStartedMs(startedMs))
        .build();
  }

  public StageEvent failed(StageFailure failure) {
    return envelope()
        .setFailed(StageEvent.Failed.newBuilder()
            .setInstructionIndex(failure.instructionIndex())
            .setLine(failure.line())
            .setExitCode(failure.exitCode())
            .setMessage(bounded(failure.message(), MAX_MESSAGE_CHARS))
            .setOutputTail(bounded(failure.outputTail(), MAX_OUTPUT_TAIL_CHARS))
            .setRetriable(failure.retriable())
            .setDeadline(failure.deadline()))
        .build();
  }

  /**
   * A failure names its command, and a RUN's command can be megabytes (a long inline heredoc): an
   * unbounded message would make an event Kafka refuses, and the task would be redelivered forever.
   */
  static final int MAX_MESSAGE_CHARS = 8 << 10;
  static final int MAX_OUTPUT_TAIL_CHARS = 16 << 10;

  /** The text cut in the middle to {@code max} characters, saying how much was left out. */
  static String bounded(String text, int max) {
    if (text.length() <= max) {
      return text;
    }
    int keep = max / 2;
    return text.substring(0, keep) + "… (" + (text.length() - 2 * keep) + " characters left out) …"
        + text.substring(text.length() - keep);
  }

  private StageEvent.Builder envelope() {
    return StageEvent.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setBuildId(task.getBuildId())
        .setStageId(task.getStageId())
        .setAttempt(task.getAttempt())
        .setWorkerId(workerId)
        .setDeliveryCount(deliveryCount)
        .setTimestampMs(clock.millis());
  }
}
