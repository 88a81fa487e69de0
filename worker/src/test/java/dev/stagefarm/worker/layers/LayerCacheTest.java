package dev.stagefarm.worker.layers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Eviction and restart behaviour, with layers adopted from directories (no store needed). */
class LayerCacheTest {
  @TempDir Path dir;

  private Path layerDir(String name, int bytes) throws Exception {
    Path d = Files.createDirectories(dir.resolve("src-" + name));
    Files.write(d.resolve("file"), new byte[bytes]);
    return d;
  }

  @Test
  void evictsLeastRecentlyUsedLayersButNeverOnesInUse() throws Exception {
    LayerCache cache = new LayerCache(dir.resolve("cache"), 2500, null);
    Digest a = Digest.of("a");
    Digest b = Digest.of("b");
    Digest c = Digest.of("c");
    cache.adopt(a, layerDir("a", 1000), 1000);
    cache.adopt(b, layerDir("b", 1000), 1000);
    try (LayerCache.Lease inUse = cache.acquire(a, a)) { // a: in use and most recently used
      cache.adopt(c, layerDir("c", 1000), 1000);         // 3000 > 2500: b (LRU, unused) goes
      assertThat(inUse.dir().resolve("file")).exists();
    }
    assertThat(dir.resolve("cache").resolve(b.hex())).doesNotExist();
    assertThat(dir.resolve("cache").resolve(a.hex())).isDirectory();
    assertThat(dir.resolve("cache").resolve(c.hex())).isDirectory();
    assertThat(cache.sizeBytes()).isEqualTo(2000);
  }

  @Test
  void aRestartedCacheKeepsItsLayersAndDropsHalfExtractedOnes() throws Exception {
    Path root = dir.resolve("cache");
    LayerCache first = new LayerCache(root, 1 << 20, null);
    Digest a = Digest.of("a");
    first.adopt(a, layerDir("a", 10), 10);
    Files.createDirectories(root.resolve(".extract-123")); // a killed worker's leftover
    LayerCache second = new LayerCache(root, 1 << 20, null);
    try (LayerCache.Lease lease = second.acquire(a, a)) {
      assertThat(lease.dir()).isEqualTo(root.resolve(a.hex()));
    }
    assertThat(root.resolve(".extract-123")).doesNotExist();
  }
}
