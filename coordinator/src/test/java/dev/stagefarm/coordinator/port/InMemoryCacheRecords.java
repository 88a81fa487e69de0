package dev.stagefarm.coordinator.port;

import dev.stagefarm.coordinator.content.CachedOp;
import dev.stagefarm.program.CacheKey;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Cache records in memory; tests record ops as a worker would. */
public final class InMemoryCacheRecords implements CacheRecords {
  private final Map<CacheKey, CachedOp> records = new ConcurrentHashMap<>();

  public void record(CacheKey key, CachedOp op) {
    records.put(key, op);
  }

  @Override
  public Optional<CachedOp> find(CacheKey key) {
    return Optional.ofNullable(records.get(key));
  }
}
