package dev.stagefarm.coordinator.inprocess;

import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.port.TaskQueue;
import dev.stagefarm.coordinator.port.WriteFailure;
import dev.stagefarm.coordinator.wire.TaskMessages;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.TaskRouting;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.program.inprocess.InProcessShareQueue;
import dev.stagefarm.program.inprocess.SignedRecord;
import dev.stagefarm.proto.v1.StageTask;

/**
 * Publishes stage tasks on the in-process queue: the same signed {@link StageTask} record, keyed and
 * routed by platform as {@code KafkaTaskQueue} publishes it.
 */
public final class InProcessTaskQueue implements TaskQueue {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(InProcessTaskQueue.class);
  private final InProcessBus bus;
  private final FarmKeys keys;

  public InProcessTaskQueue(InProcessBus bus, FarmKeys keys) {
    this.bus = bus;
    this.keys = keys;
  }

  @Override
  public void publish(StageJob job) {
    StageTask task = TaskMessages.toProto(job);
    try {
      String topic = TaskRouting.topic(job.program().platform());
      long offset = bus.tasks().publish(topic,
          SignedRecord.sign(keys, FarmKeys.Purpose.TASK, task.getBuildId() + "/" + task.getStageId(), task.toByteArray()));
      // with the slot's "took" line, the hand-off in the farm's DEBUG log (bench/README.md, "Session 9")
      log.debug("published build {} stage {} attempt {} at {}-{}", task.getBuildId(), task.getStageId(),
          task.getAttempt(), topic, offset);
    } catch (InProcessShareQueue.QueueFullException e) {
      throw new WriteFailure(WriteFailure.Kind.RETRIABLE, e.getMessage(), e);
    }
  }

  @Override
  public void close() {}
}
