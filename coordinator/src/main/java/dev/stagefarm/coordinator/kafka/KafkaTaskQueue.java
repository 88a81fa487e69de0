package dev.stagefarm.coordinator.kafka;

import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.port.TaskQueue;
import dev.stagefarm.coordinator.wire.TaskMessages;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.TaskRouting;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageTask;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Publishes stage tasks to the task topic of their program's platform ({@link Topics#TASKS} for
 * linux/amd64, {@link TaskRouting}), keyed by build and stage, each with the farm
 * key's MAC (workers reject tasks without it), through the active coordinator's fenced producer:
 * a coordinator that was taken over cannot publish a task.
 */
public final class KafkaTaskQueue implements TaskQueue {
  private final FencedProducer producer;
  private final FarmKeys keys;

  /** @param producer shared with the journal; closed by its owner */
  public KafkaTaskQueue(FencedProducer producer, FarmKeys keys) {
    this.keys = keys;
    this.producer = producer;
  }

  @Override
  public void publish(StageJob job) {
    StageTask task = TaskMessages.toProto(job);
    String key = task.getBuildId() + "/" + task.getStageId();
    producer.send(
        FarmMacs.sign(keys, FarmKeys.Purpose.TASK, new ProducerRecord<>(TaskRouting.topic(job.program().platform()), key, task.toByteArray())));
  }

  /** Tasks and records share the fenced producer: one transaction holds a whole outbox round. */
  @Override
  public boolean groupsWrites() {
    return true;
  }

  @Override
  public void inOneWrite(Runnable writes) {
    producer.inTransaction(writes);
  }

  @Override
  public void close() {}
}
