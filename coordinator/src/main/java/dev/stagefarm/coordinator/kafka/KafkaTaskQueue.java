package dev.stagefarm.coordinator.kafka;

import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.port.TaskQueue;
import dev.stagefarm.coordinator.wire.TaskMessages;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageTask;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes stage tasks to {@link Topics#TASKS}, keyed by build and stage, each with the farm
 * key's MAC (workers reject tasks without it).
 */
public final class KafkaTaskQueue implements TaskQueue {
  private static final Logger log = LoggerFactory.getLogger(KafkaTaskQueue.class);
  private final KafkaProducer<String, byte[]> producer;
  private final FarmKeys keys;

  public KafkaTaskQueue(String bootstrapServers, FarmKeys keys) {
    this(bootstrapServers, KafkaClientProperties.none(), keys);
  }

  public KafkaTaskQueue(String bootstrapServers, KafkaClientProperties security, FarmKeys keys) {
    this.keys = keys;
    this.producer = KafkaClients.producer(bootstrapServers, security, "stagefarm-coordinator-tasks");
  }

  @Override
  public void publish(StageJob job) {
    StageTask task = TaskMessages.toProto(job);
    String key = task.getBuildId() + "/" + task.getStageId();
    producer.send(
        FarmMacs.sign(keys, FarmKeys.Purpose.TASK, new ProducerRecord<>(Topics.TASKS, key, task.toByteArray())),
        (metadata, error) -> {
          if (error != null) {
            // the lease check re-publishes a stage nobody starts only once it ran; a task lost
            // here would hang the build, so say so loudly
            log.error("publishing task {} attempt {} failed: {}", key, task.getAttempt(), error.toString());
          }
        });
  }

  @Override
  public void close() {
    producer.close();
  }
}
