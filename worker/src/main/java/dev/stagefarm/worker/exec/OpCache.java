package dev.stagefarm.worker.exec;

import dev.stagefarm.program.CacheKey;
import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.store.CacheRecords;
import dev.stagefarm.worker.store.CachedOp;
import java.io.IOException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The op cache as the pipeline uses it (DESIGN.md §7): an op whose key has a record is not
 * executed; its layer (if any) is stacked from the layer cache. Every executed op is recorded.
 */
final class OpCache {
  private static final Logger log = LoggerFactory.getLogger(OpCache.class);

  private final CacheRecords records;
  private final LayerCache layers;

  OpCache(CacheRecords records, LayerCache layers) {
    this.records = records;
    this.layers = layers;
  }

  /** The recorded result of {@code key}, its layer already stacked on the workspace; empty on a miss. */
  Optional<CachedOp> take(CacheKey key, StageWorkspace workspace) throws IOException {
    Optional<CachedOp> hit = records.get(key);
    if (hit.isPresent() && hit.get().layer().isPresent()) {
      var layer = hit.get().layer().get();
      workspace.stackLayer(layers.acquire(layer.diffId(), layer.blob().digest()));
    }
    return hit;
  }

  /** Records what the op under {@code key} produced. A failed write costs a later build a re-run, not this stage. */
  void record(CacheKey key, CachedOp result) {
    try {
      records.put(key, result);
    } catch (IOException e) {
      log.warn("recording the cache entry {} failed: {}", key, e.toString());
    }
  }
}
