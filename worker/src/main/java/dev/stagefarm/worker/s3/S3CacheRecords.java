package dev.stagefarm.worker.s3;

import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.CacheRecordCodec;
import dev.stagefarm.program.FarmKeys;
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
  private final FarmKeys keys;

  /** @param keys the farm's keys: records are signed with the first, and read only when one verifies them */
  public S3CacheRecords(BlobStore store, FarmKeys keys) {
    this.store = store;
    this.keys = keys;
  }

  @Override
  public Optional<CachedOp> get(CacheKey key) throws IOException {
    Optional<byte[]> bytes = store.getRecord(key.hex());
    if (bytes.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(CacheRecordCodec.decode(key, bytes.get(), keys).map(layer -> CachedOp.of(WireLayers.fromProto(layer)))
          .orElse(CachedOp.NO_LAYER));
    } catch (IllegalArgumentException e) {
      // a record we cannot use is a miss: executing the op again is always correct
      log.warn("ignoring the cache record {}: {}", key, e.getMessage());
      return Optional.empty();
    }
  }

  @Override
  public void put(CacheKey key, CachedOp result) throws IOException {
    store.putRecord(key.hex(),
        CacheRecordCodec.encode(key, result.layer().map(WireLayers::toProto), System.currentTimeMillis(), keys));
  }
}
