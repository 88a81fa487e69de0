package dev.stagefarm.worker.kafka;

import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes {@link StageEvent}s on {@link Topics#EVENTS}, keyed by build id so one build's events
 * stay in order, each with the farm key's MAC in its headers (the coordinator ignores events
 * without it). Thread-safe (the Kafka producer is).
 */
public final class EventPublisher implements dev.stagefarm.worker.transport.EventSink {
  private static final Logger log = LoggerFactory.getLogger(EventPublisher.class);
  private final KafkaProducer<String, byte[]> producer;
  private final FarmKeys keys;

  public EventPublisher(String bootstrapServers, String clientId, FarmKeys keys) {
    this(bootstrapServers, KafkaClientProperties.none(), clientId, keys);
  }

  public EventPublisher(String bootstrapServers, KafkaClientProperties security, String clientId, FarmKeys keys) {
    this.keys = keys;
    Properties props = new Properties();
    props.putAll(security.asMap());
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    // no batching delay: the outcome event gates the task's ACCEPT and the coordinator's next step
    props.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
    this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
  }

  /** Sends without waiting (progress: heartbeats, logs, instruction done). */
  @Override
  public void publish(StageEvent event) {
    producer.send(record(event), (metadata, error) -> {
      if (error != null) {
        log.warn("publishing a {} event of build {} stage {} failed: {}",
            event.getKindCase(), event.getBuildId(), event.getStageId(), error.toString());
      }
    });
  }

  /**
   * Sends and waits for the broker's acknowledgement: used for the outcome (completed/failed),
   * which must be durable before the task record is acknowledged.
   *
   * @throws EventPublishException when the broker did not take it in time
   */
  @Override
  public void publishDurably(StageEvent event, Duration timeout) {
    try {
      producer.send(record(event)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new EventPublishException("publishing the " + event.getKindCase() + " event of build "
          + event.getBuildId() + " stage " + event.getStageId() + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EventPublishException("interrupted while publishing an event", e);
    }
  }

  private ProducerRecord<String, byte[]> record(StageEvent event) {
    return FarmMacs.sign(keys, FarmKeys.Purpose.EVENT,
        new ProducerRecord<>(Topics.EVENTS, event.getBuildId(), event.toByteArray()));
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }

  /** An event could not be published (Kafka unreachable or too slow). */
  public static final class EventPublishException extends dev.stagefarm.worker.transport.EventSink.PublishFailed {
    EventPublishException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
