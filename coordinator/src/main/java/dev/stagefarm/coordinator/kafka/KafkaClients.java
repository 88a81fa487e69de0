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
    Properties props = new Properties();
    props.putAll(security.asMap());
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
    return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
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
    return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
  }
}
