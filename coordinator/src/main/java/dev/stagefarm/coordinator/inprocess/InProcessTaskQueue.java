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
      bus.tasks().publish(TaskRouting.topic(job.program().platform()),
          SignedRecord.sign(keys, FarmKeys.Purpose.TASK, task.getBuildId() + "/" + task.getStageId(), task.toByteArray()));
    } catch (InProcessShareQueue.QueueFullException e) {
      throw new WriteFailure(WriteFailure.Kind.RETRIABLE, e.getMessage(), e);
    }
  }

  @Override
  public void close() {}
}
