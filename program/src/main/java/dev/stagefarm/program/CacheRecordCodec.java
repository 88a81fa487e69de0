package dev.stagefarm.program;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.CacheRecord;
import dev.stagefarm.proto.v1.Layer;
import java.util.Optional;

/**
 * The bytes of an op's cache record under {@code cache/<key>}: written by the worker that ran the
 * op, read by workers (partial hits) and the coordinator (whole-stage hits). One codec, so both
 * readers refuse the same records.
 */
public final class CacheRecordCodec {
  private CacheRecordCodec() {}

  /** The record of {@code key}: the op's layer, or none when the op changed no file. */
  public static byte[] encode(CacheKey key, Optional<Layer> layer, long createdMs) {
    CacheRecord.Builder record = CacheRecord.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setCacheKey(key.hex())
        .setCreatedMs(createdMs);
    layer.ifPresent(record::setLayer);
    return record.build().toByteArray();
  }

  /**
   * The layer recorded under {@code key} ({@code Optional.empty()} inside: the op made none).
   *
   * @throws IllegalArgumentException naming why the record cannot be used: unreadable, written by
   *     a newer schema, or stored under another key. Callers treat it as a miss (the op runs again).
   */
  public static Optional<Layer> decode(CacheKey key, byte[] bytes) {
    CacheRecord record;
    try {
      record = CacheRecord.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("unreadable: " + e.getMessage(), e);
    }
    if (record.getSchemaVersion() > Topics.SCHEMA_VERSION) {
      throw new IllegalArgumentException("written with schema " + record.getSchemaVersion() + ", newer than ours");
    }
    if (!record.getCacheKey().equals(key.hex())) {
      throw new IllegalArgumentException("it names another key, " + record.getCacheKey());
    }
    return record.hasLayer() ? Optional.of(record.getLayer()) : Optional.empty();
  }
}
