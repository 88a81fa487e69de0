package dev.stagefarm.worker.kafka;

import dev.stagefarm.program.FarmKeys;
import org.apache.kafka.clients.producer.ProducerRecord;

/** The farm MAC of a Kafka record, carried in its headers (docs/protocol.md, "Farm authentication"). */
public final class FarmMacs {
  private FarmMacs() {}

  /** Adds the MAC of the record's value for {@code purpose} to its headers; returns the record. */
  public static ProducerRecord<String, byte[]> sign(FarmKeys keys, FarmKeys.Purpose purpose,
      ProducerRecord<String, byte[]> record) {
    keys.headers(purpose, record.value()).forEach(record.headers()::add);
    return record;
  }
}
