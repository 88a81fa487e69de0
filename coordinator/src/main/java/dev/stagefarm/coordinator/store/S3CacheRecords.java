package dev.stagefarm.coordinator.store;

import dev.stagefarm.coordinator.content.CachedOp;
import dev.stagefarm.coordinator.port.CacheRecords;
import dev.stagefarm.coordinator.wire.ContentMessages;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.CacheRecordCodec;
import dev.stagefarm.program.FarmKeys;
import java.io.IOException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link CacheRecords} port on the records workers store under {@code cache/<key>}, read with
 * the same {@link CacheRecordCodec} as the workers' own reader.
 */
public final class S3CacheRecords implements CacheRecords {
  private static final Logger log = LoggerFactory.getLogger(S3CacheRecords.class);
  private final BlobStore store;
  private final FarmKeys keys;

  /** @param keys the farm's keys: a record is used only when one of them verifies its MAC */
  public S3CacheRecords(BlobStore store, FarmKeys keys) {
    this.store = store;
    this.keys = keys;
  }

  @Override
  public Optional<CachedOp> find(CacheKey key) throws IOException {
    Optional<byte[]> bytes = store.getRecord(key.hex());
    if (bytes.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(new CachedOp(CacheRecordCodec.decode(key, bytes.get(), keys).map(ContentMessages::fromProto)));
    } catch (IllegalArgumentException e) {
      // a record we cannot use is a miss: the op runs again and its worker rewrites the record
      log.warn("ignoring the cache record {}: {}", key, e.getMessage());
      return Optional.empty();
    }
  }
}
