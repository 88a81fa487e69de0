package dev.stagefarm.worker.metrics;

import dev.stagefarm.program.CacheKey;
import dev.stagefarm.worker.store.CacheRecords;
import dev.stagefarm.worker.store.CachedOp;
import java.io.IOException;
import java.util.Optional;

/** Counts the op cache's lookups and hits (their ratio is the cache hit ratio). */
public final class MeteredCacheRecords implements CacheRecords {
  private final CacheRecords records;
  private final WorkerMetrics metrics;

  public MeteredCacheRecords(CacheRecords records, WorkerMetrics metrics) {
    this.records = records;
    this.metrics = metrics;
  }

  @Override
  public Optional<CachedOp> get(CacheKey key) throws IOException {
    Optional<CachedOp> found = records.get(key);
    metrics.cacheLookups.increment();
    if (found.isPresent()) {
      metrics.cacheHits.increment();
    }
    return found;
  }

  @Override
  public void put(CacheKey key, CachedOp result) throws IOException {
    records.put(key, result);
  }
}
