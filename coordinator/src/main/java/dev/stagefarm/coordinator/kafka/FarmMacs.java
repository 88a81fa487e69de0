package dev.stagefarm.coordinator.kafka;

import dev.stagefarm.program.FarmKeys;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The farm MAC of a Kafka record, carried in its headers (docs/protocol.md, "Farm
 * authentication"); the header format itself is {@link FarmKeys#headers}, shared with the workers.
 */
final class FarmMacs {
  private FarmMacs() {}

  static ProducerRecord<String, byte[]> sign(FarmKeys keys, FarmKeys.Purpose purpose,
      ProducerRecord<String, byte[]> record) {
    keys.headers(purpose, record.value()).forEach(record.headers()::add);
    return record;
  }

  static boolean verify(FarmKeys keys, FarmKeys.Purpose purpose, ConsumerRecord<String, byte[]> record) {
    return keys.verifyHeaders(purpose, record.value(), name -> {
      Header header = record.headers().lastHeader(name);
      return header == null ? null : header.value();
    });
  }
}
