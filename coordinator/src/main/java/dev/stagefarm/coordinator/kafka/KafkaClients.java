package dev.stagefarm.coordinator.kafka;

import dev.stagefarm.program.KafkaClientProperties;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The coordinator's Kafka client configurations, in one place. The security settings ({@link
 * KafkaClientProperties}: SASL, TLS) go into every client; they hold no key the farm sets itself.
 */
final class KafkaClients {
  private KafkaClients() {}

  /** Idempotent, acks=all: a task or record once acknowledged is not lost or duplicated by retries. */
  static KafkaProducer<String, byte[]> producer(String bootstrap, String clientId) {
    return producer(bootstrap, KafkaClientProperties.none(), clientId);
  }

  static KafkaProducer<String, byte[]> producer(String bootstrap, KafkaClientProperties security, String clientId) {
    return new KafkaProducer<>(producerProperties(bootstrap, security, clientId), new StringSerializer(),
        new ByteArraySerializer());
  }

  static KafkaProducer<String, byte[]> transactionalProducer(String bootstrap, String clientId, String transactionalId) {
    return transactionalProducer(bootstrap, KafkaClientProperties.none(), clientId, transactionalId);
  }

  /**
   * A transactional producer: the {@code transactionalId} is the same for every coordinator of a
   * farm, so the one that becomes active fences the writes of any earlier one (docs/protocol.md,
   * "Leadership and fencing"). {@code max.block.ms} bounds how long one attempt waits for an
   * unreachable broker; the outbox retries.
   */
  static KafkaProducer<String, byte[]> transactionalProducer(String bootstrap, KafkaClientProperties security,
      String clientId, String transactionalId) {
    Properties props = producerProperties(bootstrap, security, clientId);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
    return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
  }

  private static Properties producerProperties(String bootstrap, KafkaClientProperties security, String clientId) {
    Properties props = new Properties();
    props.putAll(security.asMap());
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
    return props;
  }

  static KafkaConsumer<String, byte[]> consumer(String bootstrap, String groupId, String clientId) {
    return consumer(bootstrap, KafkaClientProperties.none(), groupId, clientId);
  }

  static KafkaConsumer<String, byte[]> consumer(String bootstrap, KafkaClientProperties security, String groupId,
      String clientId) {
    Properties props = new Properties();
    props.putAll(security.asMap());
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    if (groupId != null) {
      props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
      props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true");
      props.put(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, "1000");
    } else {
      props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    }
    // Events of builds this coordinator does not know (or older attempts) are ignored by the
    // scheduler, so reading from the beginning of an unknown group is safe.
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
    // tasks and records are written in transactions: never read what a fenced coordinator aborted
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
  }

  static KafkaConsumer<String, byte[]> electionConsumer(String bootstrap, String groupId, String clientId,
      java.time.Duration session) {
    return electionConsumer(bootstrap, KafkaClientProperties.none(), groupId, clientId, session);
  }

  /**
   * A member of the coordinators' leadership group: sticky assignment (a live leader keeps the
   * partition when a standby joins), and a short session so a dead leader is replaced within
   * seconds.
   */
  static KafkaConsumer<String, byte[]> electionConsumer(String bootstrap, KafkaClientProperties security,
      String groupId, String clientId, java.time.Duration session) {
    Properties props = new Properties();
    props.putAll(security.asMap());
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
    props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
        org.apache.kafka.clients.consumer.CooperativeStickyAssignor.class.getName());
    props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Long.toString(session.toMillis()));
    props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Long.toString(Math.max(100, session.toMillis() / 6)));
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
    return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
  }
}
