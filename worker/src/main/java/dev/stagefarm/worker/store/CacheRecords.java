package dev.stagefarm.worker.store;

import dev.stagefarm.program.CacheKey;
import java.io.IOException;
import java.util.Optional;

/**
 * The farm's op cache: what an op with this key produced. Separate from the {@link ContentStore}:
 * records are small, mutable by key and trusted only from the farm's own parts; blobs are
 * immutable content. IOExceptions are infrastructure faults.
 */
public interface CacheRecords {

  /** The record under {@code key}, or empty when there is none (or it is unreadable). */
  Optional<CachedOp> get(CacheKey key) throws IOException;

  /** Writes (or overwrites) the record under {@code key}. */
  void put(CacheKey key, CachedOp result) throws IOException;
}
