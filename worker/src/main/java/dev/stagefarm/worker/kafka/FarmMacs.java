package dev.stagefarm.worker.kafka;

import dev.stagefarm.program.FarmKeys;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/** The farm MAC of a Kafka record, carried in its headers (docs/protocol.md, "Farm authentication"). */
public final class FarmMacs {
  private FarmMacs() {}

  /** Adds the MAC of the record's value for {@code purpose} to its headers; returns the record. */
  public static ProducerRecord<String, byte[]> sign(FarmKeys keys, FarmKeys.Purpose purpose,
      ProducerRecord<String, byte[]> record) {
    keys.headers(purpose, record.value()).forEach(record.headers()::add);
    return record;
  }

  /** Whether the record's value carries a valid MAC for {@code purpose} under one of {@code keys}. */
  static boolean verify(FarmKeys keys, FarmKeys.Purpose purpose, ConsumerRecord<String, byte[]> record) {
    return keys.verifyHeaders(purpose, record.value(), name -> header(record, name));
  }

  /** The key id the record names ("" when none), for logs. */
  static String keyId(ConsumerRecord<String, byte[]> record) {
    byte[] id = header(record, FarmKeys.KEY_ID_HEADER);
    return id == null ? "" : new String(id, StandardCharsets.UTF_8);
  }

  private static byte[] header(ConsumerRecord<String, byte[]> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : header.value();
  }
}
