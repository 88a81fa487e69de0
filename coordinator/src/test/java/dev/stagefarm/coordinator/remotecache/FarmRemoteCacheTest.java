package dev.stagefarm.coordinator.remotecache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.port.CacheRecords;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistrySettings;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.testkit.S3Fixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FarmRemoteCacheTest {
  private final BlobStore store = S3Fixture.newStore("farm-remote-cache");
  private final List<String> warnings = new ArrayList<>();
  private static final BuildPlan EMPTY = new BuildPlan("b1", List.of(), "0");

  private FarmRemoteCache cache(RegistryClient registry, Path dir, boolean localDirectories) {
    CacheRecords none = key -> Optional.empty();
    return new FarmRemoteCache(registry, store, none, dir.resolve("scratch"), () -> localDirectories);
  }

  @Test
  void aSharedCoordinatorNeverReadsOrWritesADirectoryAClientNames(@TempDir Path dir) throws Exception {
    try (RegistryClient registry = new RegistryClient(RegistrySettings.empty())) {
      FarmRemoteCache shared = cache(registry, dir, false);
      Path target = dir.resolve("written-by-a-client");

      CacheRecords imported = shared.importFrom(List.of("type=local,src=" + dir), warnings::add);
      assertThat(imported.find(new CacheKey("a".repeat(64)))).isEmpty();
      assertThat(warnings).singleElement().asString().contains("only a local farm");
      assertThatThrownBy(() -> shared.exportTo(List.of("type=local,dest=" + target + ",mode=max"), EMPTY,
          imported, warnings::add)).hasMessageContaining("--cache-to type=local,dest=" + target)
          .hasMessageContaining("only a local farm");
      assertThat(target).doesNotExist();
    }
  }

  @Test
  void aLocalFarmWritesTheDirectory(@TempDir Path dir) throws Exception {
    try (RegistryClient registry = new RegistryClient(RegistrySettings.empty())) {
      Path target = dir.resolve("cache");
      cache(registry, dir, true).exportTo(List.of("type=local,dest=" + target + ",mode=min"), EMPTY,
          key -> Optional.empty(), warnings::add);
      assertThat(target.resolve("index.json")).exists();
      assertThat(Files.readString(target.resolve("oci-layout"))).contains("imageLayoutVersion");
    }
  }

  @Test
  void aFailedExportFailsTheBuildUnlessIgnoreErrorSaysToWarn(@TempDir Path dir) throws Exception {
    try (RegistryClient registry = new RegistryClient(RegistrySettings.empty().withInsecure("127.0.0.1:1"))) {
      FarmRemoteCache cache = cache(registry, dir, false);
      assertThatThrownBy(() -> cache.exportTo(List.of("type=registry,ref=127.0.0.1:1/c:1"), EMPTY,
          key -> Optional.empty(), warnings::add))
          .hasMessageStartingWith("--cache-to type=registry,ref=127.0.0.1:1/c:1: exporting the cache failed: ");

      cache.exportTo(List.of("type=registry,ref=127.0.0.1:1/c:1,ignore-error=true"), EMPTY, key -> Optional.empty(),
          warnings::add);
      assertThat(warnings).singleElement().asString().endsWith("(ignored: ignore-error=true)");
    }
  }
}
