package dev.stagefarm.program.inprocess;

import dev.stagefarm.program.FarmKeys;
import java.util.Map;
import java.util.Objects;

/**
 * A record as the in-process transport carries it: the same bytes and the same farm-MAC headers a
 * Kafka record carries (docs/protocol.md, "Farm authentication"), so whoever reads it verifies it
 * the same way on either transport.
 *
 * @param key the record key (build id, or build/stage for tasks)
 * @param value the serialized protobuf message
 * @param headers header name to value; the farm MAC and key id among them
 */
public record SignedRecord(String key, byte[] value, Map<String, byte[]> headers) {
  public SignedRecord {
    Objects.requireNonNull(value, "value");
    headers = Map.copyOf(headers);
  }

  /** The value with the farm key's MAC for {@code purpose} in its headers. */
  public static SignedRecord sign(FarmKeys keys, FarmKeys.Purpose purpose, String key, byte[] value) {
    return new SignedRecord(key, value, keys.headers(purpose, value));
  }

  /** The header's value, or null when the record has none. */
  public byte[] header(String name) {
    return headers.get(name);
  }

  /** Whether the value carries a valid MAC for {@code purpose} under one of {@code keys}. */
  public boolean verify(FarmKeys keys, FarmKeys.Purpose purpose) {
    return keys.verifyHeaders(purpose, value, this::header);
  }
}
