package dev.stagefarm.coordinator.plan;

import dev.stagefarm.proto.v1.CacheRecord;
import dev.stagefarm.proto.v1.ContextManifest;
import java.io.IOException;
import java.util.Optional;

/** What planning reads from the content store. */
public interface PlanningStore {
  /** The context manifest stored under {@code context/sha256/<hex>}. */
  ContextManifest contextManifest(String digest) throws IOException;

  /** The instruction cache record under {@code cache/<key>}, if any. */
  Optional<CacheRecord> cacheRecord(String key) throws IOException;
}
