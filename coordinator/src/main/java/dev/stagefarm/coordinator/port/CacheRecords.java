package dev.stagefarm.coordinator.port;

import dev.stagefarm.coordinator.content.CachedOp;
import dev.stagefarm.program.CacheKey;
import java.io.IOException;
import java.util.Optional;

/** The op cache: what workers recorded under each op's cache key. The coordinator only reads it. */
public interface CacheRecords {
  /**
   * The record under the key; empty when there is none or it cannot be read (a miss).
   *
   * @throws IOException when the store could not be asked
   */
  Optional<CachedOp> find(CacheKey key) throws IOException;
}
