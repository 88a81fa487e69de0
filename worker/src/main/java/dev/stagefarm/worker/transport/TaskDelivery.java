package dev.stagefarm.worker.transport;

import dev.stagefarm.program.FarmKeys;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * One task record handed to a slot: the serialized {@code StageTask} and its farm-MAC headers,
 * where it sits (topic, partition, offset: what an acknowledgement names) and how often it was
 * handed out, this time included.
 *
 * @param headers looks a header up by name (null when absent)
 * @param handle the transport's own record object, for its acknowledgement
 */
public record TaskDelivery(String topic, int partition, long offset, int deliveryCount, byte[] value,
    Function<String, byte[]> headers, Object handle) {

  /** Whether the value carries a valid task MAC under one of {@code keys} (only the coordinator holds the key). */
  public boolean signedBy(FarmKeys keys) {
    return keys.verifyHeaders(FarmKeys.Purpose.TASK, value, headers);
  }

  /** The key id the record names ("" when none), for logs. */
  public String keyId() {
    byte[] id = headers.apply(FarmKeys.KEY_ID_HEADER);
    return id == null ? "" : new String(id, StandardCharsets.UTF_8);
  }

  public boolean sameRecord(TaskDelivery other) {
    return other.offset == offset && other.partition == partition && other.topic.equals(topic);
  }

  @Override
  public String toString() {
    return topic + "-" + partition + "@" + offset;
  }
}
