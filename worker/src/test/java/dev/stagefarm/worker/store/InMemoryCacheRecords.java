package dev.stagefarm.worker.store;

import dev.stagefarm.program.CacheKey;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Op cache records in memory, for tests. */
public final class InMemoryCacheRecords implements CacheRecords {
  private final Map<CacheKey, CachedOp> records = new ConcurrentHashMap<>();

  @Override
  public Optional<CachedOp> get(CacheKey key) {
    return Optional.ofNullable(records.get(key));
  }

  @Override
  public void put(CacheKey key, CachedOp result) {
    records.put(key, result);
  }

  public Map<CacheKey, CachedOp> all() {
    return Map.copyOf(records);
  }
}
