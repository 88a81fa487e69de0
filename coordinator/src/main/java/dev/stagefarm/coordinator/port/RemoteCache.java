package dev.stagefarm.coordinator.port;

import dev.stagefarm.coordinator.plan.BuildPlan;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** A build's {@code --cache-from} and {@code --cache-to}: caches outside the farm, in BuildKit's format. */
public interface RemoteCache {
  /** A coordinator without one: imports nothing, and an export fails the build saying so. */
  RemoteCache NONE = new RemoteCache() {
    @Override
    public CacheRecords importFrom(List<String> specs, Consumer<String> warnings) {
      warnings.accept("--cache-from is not available on this coordinator; the build runs without it");
      return key -> Optional.empty();
    }

    @Override
    public void exportTo(List<String> specs, BuildPlan plan, CacheRecords imported, Consumer<String> warnings)
        throws IOException {
      throw new IOException("--cache-to is not available on this coordinator");
    }
  };

  /**
   * The records of the caches {@code specs} name, for this build only (an imported record never reaches another
   * build). Never fails: a cache that cannot be read is a warning, as BuildKit's.
   */
  CacheRecords importFrom(List<String> specs, Consumer<String> warnings);

  /**
   * Exports the cache of the plan's stages to each of {@code specs}.
   *
   * @param imported the build's imported records, for stages planned from them
   * @param warnings failures an export with {@code ignore-error=true} only warns of
   * @throws IOException naming the export that failed
   */
  void exportTo(List<String> specs, BuildPlan plan, CacheRecords imported, Consumer<String> warnings)
      throws IOException;
}
