package dev.stagefarm.coordinator.store;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.coordinator.content.CachedOp;
import dev.stagefarm.coordinator.port.CacheRecords;
import dev.stagefarm.coordinator.wire.ContentMessages;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.CacheRecord;
import java.io.IOException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link CacheRecords} port on the records workers store under {@code cache/<key>}. Reads
 * them as the worker's {@code S3CacheRecords} does (the coordinator may not depend on the worker
 * module; a shared codec would belong in {@code program}).
 */
public final class S3CacheRecords implements CacheRecords {
  private static final Logger log = LoggerFactory.getLogger(S3CacheRecords.class);
  private final BlobStore store;

  public S3CacheRecords(BlobStore store) {
    this.store = store;
  }

  @Override
  public Optional<CachedOp> find(CacheKey key) throws IOException {
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
      return Optional.of(ContentMessages.fromProto(record));
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      // a record we cannot read is a miss: the op runs again and its worker rewrites the record
      log.warn("ignoring the unreadable cache record {}: {}", key, e.getMessage());
      return Optional.empty();
    }
  }
}
