package dev.stagefarm.worker.s3;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.CacheRecord;
import dev.stagefarm.worker.store.CacheRecords;
import dev.stagefarm.worker.store.CachedOp;
import dev.stagefarm.worker.wire.WireLayers;
import java.io.IOException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Op cache records as {@code stagefarm.v1.CacheRecord} objects under {@code cache/<key>} in the bucket. */
public final class S3CacheRecords implements CacheRecords {
  private static final Logger log = LoggerFactory.getLogger(S3CacheRecords.class);

  private final BlobStore store;

  public S3CacheRecords(BlobStore store) {
    this.store = store;
  }

  @Override
  public Optional<CachedOp> get(CacheKey key) throws IOException {
    Optional<byte[]> bytes = store.getRecord(key.hex());
    if (bytes.isEmpty()) {
      return Optional.empty();
    }
    try {
      CacheRecord record = CacheRecord.parseFrom(bytes.get());
      if (record.getSchemaVersion() > Topics.SCHEMA_VERSION || !record.getCacheKey().equals(key.hex())) {
        log.warn("ignoring cache record {}: schema {} or key {} not ours", key, record.getSchemaVersion(),
            record.getCacheKey());
        return Optional.empty();
      }
      return Optional.of(record.hasLayer() ? CachedOp.of(WireLayers.fromProto(record.getLayer())) : CachedOp.NO_LAYER);
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      // a record we cannot read is a miss: executing the op again is always correct
      log.warn("ignoring an unreadable cache record {}: {}", key, e.getMessage());
      return Optional.empty();
    }
  }

  @Override
  public void put(CacheKey key, CachedOp result) throws IOException {
    CacheRecord.Builder record = CacheRecord.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setCacheKey(key.hex())
        .setCreatedMs(System.currentTimeMillis());
    result.layer().ifPresent(layer -> record.setLayer(WireLayers.toProto(layer)));
    store.putRecord(key.hex(), record.build().toByteArray());
  }
}
