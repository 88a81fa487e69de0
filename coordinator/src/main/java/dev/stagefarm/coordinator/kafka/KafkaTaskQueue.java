package dev.stagefarm.coordinator.kafka;

import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.port.TaskQueue;
import dev.stagefarm.coordinator.wire.TaskMessages;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageTask;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
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
    this.keys = keys;
    this.producer = KafkaClients.producer(bootstrapServers, "stagefarm-coordinator-tasks");
  }

  @Override
  public CompletableFuture<Void> publish(StageJob job) {
    StageTask task = TaskMessages.toProto(job);
    String key = task.getBuildId() + "/" + task.getStageId();
    CompletableFuture<Void> published = new CompletableFuture<>();
    try {
      producer.send(
          FarmMacs.sign(keys, FarmKeys.Purpose.TASK, new ProducerRecord<>(Topics.TASKS, key, task.toByteArray())),
          (metadata, error) -> {
            if (error == null) {
              published.complete(null);
            } else {
              log.error("publishing task {} attempt {} failed: {}", key, task.getAttempt(), error.toString());
              published.completeExceptionally(failure(task, error));
            }
          });
    } catch (KafkaException e) { // e.g. the record is over max.request.size: refused before sending
      log.error("publishing task {} attempt {} failed: {}", key, task.getAttempt(), e.toString());
      published.completeExceptionally(failure(task, e));
    }
    return published;
  }

  /** Retriable errors (timeouts, a broker away) are left to the queue lease; others fail the build. */
  private static TaskQueue.PublishException failure(StageTask task, Exception error) {
    boolean retriable = error instanceof RetriableException;
    String size = error instanceof RecordTooLargeException
        ? " (the task record is " + task.getSerializedSize() + " bytes)"
        : "";
    return new TaskQueue.PublishException("Kafka refused the task of stage " + task.getStageName() + size + ": "
        + error.getMessage(), retriable, error);
  }

  @Override
  public void close() {
    producer.close();
  }
}
