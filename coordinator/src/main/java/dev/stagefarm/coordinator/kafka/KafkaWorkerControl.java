package dev.stagefarm.coordinator.kafka;

import dev.stagefarm.coordinator.port.ControlMessages;
import dev.stagefarm.coordinator.port.WorkerControl;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.ControlMessage;
import java.time.Clock;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes control messages on {@link Topics#CONTROL}, keyed by build id, with the farm key's MAC
 * (purpose {@code control}): workers ignore control messages without it, so whoever can write the
 * topic cannot cancel other people's builds.
 */
public final class KafkaWorkerControl implements WorkerControl {
  private static final Logger log = LoggerFactory.getLogger(KafkaWorkerControl.class);
  private final KafkaProducer<String, byte[]> producer;
  private final FarmKeys keys;
  private final ControlMessages messages;

  public KafkaWorkerControl(String bootstrapServers, FarmKeys keys, Clock clock) {
    this(bootstrapServers, KafkaClientProperties.none(), keys, clock);
  }

  /**
   * @param security the coordinator's Kafka SASL/TLS settings
   */
  public KafkaWorkerControl(String bootstrapServers, KafkaClientProperties security, FarmKeys keys, Clock clock) {
    this.keys = keys;
    this.messages = new ControlMessages(clock);
    // control messages are sent under the scheduler's lock and are best effort (deadlines and
    // leases stop stale work too): never wait long for an unreachable broker
    this.producer = KafkaClients.producer(bootstrapServers, security, "stagefarm-coordinator-control",
        java.time.Duration.ofSeconds(1));
  }

  @Override
  public void buildEnded(String buildId, String reason) {
    send(messages.buildEnded(buildId, reason));
  }

  @Override
  public void attemptIssued(String buildId, String stageId, int attempt) {
    send(messages.attemptIssued(buildId, stageId, attempt));
  }

  private void send(ControlMessage message) {
    try {
      producer.send(
          FarmMacs.sign(keys, FarmKeys.Purpose.CONTROL,
              new ProducerRecord<>(Topics.CONTROL, message.getBuildId(), message.toByteArray())),
          (metadata, error) -> {
            if (error != null) {
              log.warn("publishing a {} control message of build {} failed: {}", message.getKindCase(),
                  message.getBuildId(), error.toString());
            }
          });
    } catch (RuntimeException e) {
      log.warn("publishing a {} control message of build {} failed: {}", message.getKindCase(),
          message.getBuildId(), e.toString());
    }
  }

  @Override
  public void close() {
    producer.close();
  }
}
