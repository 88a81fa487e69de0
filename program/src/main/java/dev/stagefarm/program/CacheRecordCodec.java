package dev.stagefarm.program;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.proto.Topics;
import com.google.protobuf.ByteString;
import dev.stagefarm.proto.v1.CacheRecord;
import dev.stagefarm.proto.v1.Layer;
import dev.stagefarm.proto.v1.SignedCacheRecord;
import java.util.Optional;

/**
 * The bytes of an op's cache record under {@code cache/<key>}: written by the worker that ran the
 * op, read by workers (partial hits) and the coordinator (whole-stage hits). One codec, so both
 * readers refuse the same records.
 *
 * <p>A record is stored as a {@link SignedCacheRecord}: anyone who can write to the bucket could
 * otherwise point an op's key at a layer of their choosing, and every later build would take it
 * as CACHED (layer blobs are verified against their digest, records are not otherwise).
 */
public final class CacheRecordCodec {
  private CacheRecordCodec() {}

  /** The record of {@code key}: the op's layer, or none when the op changed no file. */
  public static byte[] encode(CacheKey key, Optional<Layer> layer, long createdMs, FarmKeys keys) {
    CacheRecord.Builder record = CacheRecord.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setCacheKey(key.hex())
        .setCreatedMs(createdMs);
    layer.ifPresent(record::setLayer);
    byte[] payload = record.build().toByteArray();
    FarmKeys.Seal seal = keys.seal(FarmKeys.Purpose.CACHE_RECORD, payload);
    return SignedCacheRecord.newBuilder()
        .setPayload(ByteString.copyFrom(payload))
        .setKeyId(seal.keyId())
        .setMac(ByteString.copyFrom(seal.mac()))
        .build().toByteArray();
  }

  /**
   * The layer recorded under {@code key} ({@code Optional.empty()} inside: the op made none).
   *
   * @throws IllegalArgumentException naming why the record cannot be used: unreadable, written by
   *     a newer schema, not signed by a key of {@code keys} (written outside the farm, edited, or
   *     from before records were signed), or stored under another key. Callers treat it as a miss
   *     (the op runs again).
   */
  public static Optional<Layer> decode(CacheKey key, byte[] bytes, FarmKeys keys) {
    CacheRecord record;
    try {
      SignedCacheRecord signed = SignedCacheRecord.parseFrom(bytes);
      byte[] payload = signed.getPayload().toByteArray();
      if (!keys.verify(FarmKeys.Purpose.CACHE_RECORD, payload, signed.getKeyId(), signed.getMac().toByteArray())) {
        throw new IllegalArgumentException("its MAC does not verify with this farm's keys (key id '"
            + signed.getKeyId() + "'): not written by a farm component, or edited since");
      }
      record = CacheRecord.parseFrom(payload);
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
