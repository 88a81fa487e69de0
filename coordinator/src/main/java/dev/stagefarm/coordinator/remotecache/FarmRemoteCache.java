package dev.stagefarm.coordinator.remotecache;

import dev.stagefarm.coordinator.content.CachedOp;
import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.port.CacheRecords;
import dev.stagefarm.coordinator.port.RemoteCache;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.program.CacheKey;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link RemoteCache} of a coordinator: registry caches through the coordinator's registry client (the
 * credentials its pushes use), OCI layout directories on the coordinator's host only when it is the user's own
 * local farm (a shared coordinator never reads or writes a path a client names).
 */
public final class FarmRemoteCache implements RemoteCache {
  private static final Logger log = LoggerFactory.getLogger(FarmRemoteCache.class);
  private final RegistryClient registry;
  private final BlobStore store;
  private final CacheRecords farmRecords;
  private final Path scratch;
  private final BooleanSupplier localDirectories;

  /**
   * @param farmRecords the records the farm's workers wrote
   * @param scratch where an imported layer is held while it is checked
   * @param localDirectories whether type=local is allowed (the coordinator runs on the client's machine, for it)
   */
  public FarmRemoteCache(RegistryClient registry, BlobStore store, CacheRecords farmRecords, Path scratch,
      BooleanSupplier localDirectories) {
    this.registry = registry;
    this.store = store;
    this.farmRecords = farmRecords;
    this.scratch = scratch;
    this.localDirectories = localDirectories;
  }

  @Override
  public CacheRecords importFrom(List<String> specs, Consumer<String> warnings) {
    List<CacheRecords> caches = new ArrayList<>();
    for (String text : specs) {
      try {
        CacheSpec spec = CacheSpec.parse(text, false);
        caches.add(RemoteCacheImporter.read(location(spec), store, scratch, warnings));
      } catch (IOException | RuntimeException e) {
        log.info("--cache-from {} not imported: {}", text, e.toString());
        warnings.accept("--cache-from " + text + ": not imported: " + e.getMessage());
      }
    }
    return key -> firstHit(caches, key);
  }

  private static Optional<CachedOp> firstHit(List<CacheRecords> caches, CacheKey key) throws IOException {
    for (CacheRecords cache : caches) {
      Optional<CachedOp> hit = cache.find(key);
      if (hit.isPresent()) {
        return hit;
      }
    }
    return Optional.empty();
  }

  @Override
  public void exportTo(List<String> specs, BuildPlan plan, CacheRecords imported, Consumer<String> warnings)
      throws IOException {
    CacheRecords records = key -> {
      Optional<CachedOp> farm = farmRecords.find(key);
      return farm.isPresent() ? farm : imported.find(key);
    };
    for (String text : specs) {
      CacheSpec spec;
      try {
        spec = CacheSpec.parse(text, true);
      } catch (IllegalArgumentException e) {
        throw new IOException(e.getMessage(), e);
      }
      try {
        RemoteCacheExporter.Exported exported =
            RemoteCacheExporter.export(plan, spec.mode(), records, store, location(spec));
        log.info("exported the cache of build {} to {} (mode={}): {} records, {} layers, index {}", plan.buildId(),
            spec, spec.mode().name().toLowerCase(java.util.Locale.ROOT), exported.records(), exported.layers(),
            exported.index());
      } catch (IOException | RuntimeException e) {
        String message = "--cache-to " + text + ": exporting the cache failed: " + e.getMessage();
        if (!spec.ignoreError()) {
          throw new IOException(message, e);
        }
        warnings.accept(message + " (ignored: ignore-error=true)");
      }
    }
  }

  private CacheLocation location(CacheSpec spec) throws IOException {
    if (spec.type() == CacheSpec.Type.REGISTRY) {
      return new RegistryCacheLocation(registry, spec.reference());
    }
    if (!localDirectories.getAsBoolean()) {
      throw new IOException("type=local reads and writes a directory on the coordinator's host, which only a local"
          + " farm (the default, or --one-shot) allows; use type=registry with a shared coordinator");
    }
    return new LocalCacheLocation(Path.of(spec.location()), spec.tag());
  }
}
