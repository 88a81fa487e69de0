package dev.stagefarm.coordinator.kafka;

import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.port.TaskQueue;
import dev.stagefarm.coordinator.wire.TaskMessages;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.TaskRouting;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageTask;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
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
  /**
   * The records {@link #prepare} encoded and signed, by task (identity: the outbox hands the same
   * objects to {@link #publish}); the outbox thread's only, emptied at each round.
   */
  private final Map<StageJob, ProducerRecord<String, byte[]>> prepared = new IdentityHashMap<>();

  /** @param producer shared with the journal; closed by its owner */
  public KafkaTaskQueue(FencedProducer producer, FarmKeys keys) {
    this.keys = keys;
    this.producer = producer;
  }

  @Override
  public void publish(StageJob job) {
    ProducerRecord<String, byte[]> record = prepared.remove(job);
    producer.send(record != null ? record : signed(job));
  }

  /**
   * Encodes and signs the round's tasks on every core (one Ed25519 signature each: a third of the
   * outbox thread in issue 12's session 8 profile, where it was the one thread every dispatch
   * passes through); a task left over from an earlier round that failed is dropped (its retry
   * signs it again).
   */
  @Override
  public void prepare(List<StageJob> jobs) {
    prepared.clear();
    if (jobs.size() < CoreSlices.PARALLEL_MIN) {
      return; // signed as they are published
    }
    @SuppressWarnings("unchecked")
    ProducerRecord<String, byte[]>[] records = new ProducerRecord[jobs.size()];
    try {
      CoreSlices.forEach(jobs.size(), i -> records[i] = signed(jobs.get(i)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return; // published one by one, signed then
    }
    for (int i = 0; i < records.length; i++) {
      prepared.put(jobs.get(i), records[i]);
    }
  }

  /** The task's record on its platform's topic, keyed by build and stage, with the farm key's signature. */
  private ProducerRecord<String, byte[]> signed(StageJob job) {
    StageTask task = TaskMessages.toProto(job);
    String key = task.getBuildId() + "/" + task.getStageId();
    return FarmMacs.sign(keys, FarmKeys.Purpose.TASK,
        new ProducerRecord<>(TaskRouting.topic(job.program().platform()), key, task.toByteArray()));
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
