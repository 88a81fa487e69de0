package dev.stagefarm.worker.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.Compression;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.layer.LayerResult;
import dev.stagefarm.oci.layer.LayerWriter;
import dev.stagefarm.worker.store.ContentStore;
import dev.stagefarm.worker.store.InMemoryContentStore;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Eviction, restart, sharing between workers and distrust of damaged entries. */
class LayerCacheTest {
  @TempDir Path dir;

  private Path layerDir(String name, int bytes) throws Exception {
    Path d = Files.createDirectories(dir.resolve("src-" + name));
    Files.write(d.resolve("file"), new byte[bytes]);
    return d;
  }

  /** A content store that counts how often each blob is opened and can hold the first open back. */
  static final class CountingStore implements ContentStore {
    final InMemoryContentStore blobs = new InMemoryContentStore();
    final AtomicInteger opens = new AtomicInteger();
    volatile CountDownLatch gate = new CountDownLatch(0);
    /** How many opens (the first ones) fail, as a store that lost the blob for a moment. */
    final AtomicInteger failing = new AtomicInteger();

    @Override
    public InputStream openBlob(Digest digest) throws IOException {
      opens.incrementAndGet();
      try {
        gate.await();
      } catch (InterruptedException e) {
        throw new java.io.InterruptedIOException();
      }
      if (failing.getAndDecrement() > 0) {
        throw new IOException("blob " + digest + " is not readable just now");
      }
      return blobs.openBlob(digest);
    }

    @Override
    public InputStream openContext(Digest digest) throws IOException {
      return blobs.openContext(digest);
    }

    @Override
    public InputStream openProgram(Digest digest) throws IOException {
      return blobs.openProgram(digest);
    }

    @Override
    public java.util.Optional<byte[]> readSealedSecrets(String buildId, int maxBytes) throws IOException {
      return blobs.readSealedSecrets(buildId, maxBytes);
    }

    @Override
    public void putBlob(Digest digest, long size, InputStream content) throws IOException {
      blobs.putBlob(digest, size, content);
    }
  }

  /** A real layer (gzip) of a tree with two files, stored in {@code store}. */
  private LayerResult storedLayer(ContentStore store) throws Exception {
    Path tree = Files.createDirectories(dir.resolve("tree"));
    Files.writeString(tree.resolve("a.txt"), "alpha ".repeat(1000));
    Files.createDirectories(tree.resolve("sub"));
    Files.writeString(tree.resolve("sub/b.txt"), "beta");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LayerResult layer = new LayerWriter(LayerWriter.Options.defaults().withCompression(Compression.GZIP)
        .withXattrs(false)).write(tree, out);
    store.putBlob(layer.blob().digest(), out.size(), new ByteArrayInputStream(out.toByteArray()));
    return layer;
  }

  @Test
  void evictsLeastRecentlyUsedLayersButNeverOnesInUse() throws Exception {
    try (LayerCache cache = new LayerCache(dir.resolve("cache"), 2500, null)) {
      Digest a = Digest.of("a");
      Digest b = Digest.of("b");
      Digest c = Digest.of("c");
      cache.adopt(a, layerDir("a", 1000));
      cache.adopt(b, layerDir("b", 1000));
      try (LayerCache.Lease inUse = cache.acquire(a, a)) { // a: in use and most recently used
        cache.adopt(c, layerDir("c", 1000));               // 3000 > 2500: b (LRU, unused) goes
        assertThat(inUse.dir().resolve("file")).exists();
      }
      assertThat(dir.resolve("cache").resolve(b.hex())).doesNotExist();
      assertThat(dir.resolve("cache").resolve(b.hex() + ".ok")).doesNotExist();
      assertThat(dir.resolve("cache").resolve(a.hex())).isDirectory();
      assertThat(dir.resolve("cache").resolve(c.hex())).isDirectory();
      assertThat(cache.sizeBytes()).isEqualTo(2000);
    }
  }

  @Test
  void aRestartedCacheKeepsItsLayersAndDropsHalfExtractedOnes() throws Exception {
    Path root = dir.resolve("cache");
    Digest a = Digest.of("a");
    try (LayerCache first = new LayerCache(root, 1 << 20, null)) {
      first.adopt(a, layerDir("a", 10));
    }
    Files.createDirectories(root.resolve(".extract-123")); // a killed worker's leftover
    try (LayerCache second = new LayerCache(root, 1 << 20, null);
        LayerCache.Lease lease = second.acquire(a, a)) {
      assertThat(lease.dir()).isEqualTo(root.resolve(a.hex()));
    }
    assertThat(root.resolve(".extract-123")).doesNotExist();
  }

  @Test
  void twoWorkersOfOneProcessShareTheStoreAndExtractALayerOnce() throws Exception {
    CountingStore store = new CountingStore();
    LayerResult layer = storedLayer(store);
    Path root = dir.resolve("host-layers");
    store.gate = new CountDownLatch(1); // both workers ask before the first extraction has read anything
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try (LayerCache worker1 = new LayerCache(root, 1 << 30, store);
        LayerCache worker2 = new LayerCache(root, 1 << 30, store)) {
      List<Future<Path>> dirs = new ArrayList<>();
      for (LayerCache worker : List.of(worker1, worker2)) {
        dirs.add(threads.submit(() -> {
          try (LayerCache.Lease lease = worker.acquire(layer.diffId(), layer.blob().digest())) {
            return lease.dir();
          }
        }));
      }
      Thread.sleep(200); // let both reach the store (a slower machine only makes the test weaker, never flaky)
      store.gate.countDown();
      assertThat(dirs.get(0).get()).isEqualTo(dirs.get(1).get()).isEqualTo(root.resolve(layer.diffId().hex()));
      assertThat(store.opens).hasValue(1);
      assertThat(Files.readString(root.resolve(layer.diffId().hex()).resolve("sub/b.txt"))).isEqualTo("beta");
      // what one worker adopted, the other finds without any download
      Digest adopted = Digest.of("adopted");
      worker1.adopt(adopted, layerDir("adopted", 5));
      try (LayerCache.Lease lease = worker2.acquire(adopted, adopted)) {
        assertThat(lease.dir().resolve("file")).hasSize(5);
      }
      assertThat(store.opens).hasValue(1);
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void manyStagesWantingALayerBeingExtractedWaitForThatOneExtractionAndEachGetsItsLease() throws Exception {
    CountingStore store = new CountingStore();
    LayerResult layer = storedLayer(store);
    Path root = dir.resolve("host-layers");
    store.gate = new CountDownLatch(1);
    try (LayerCache cache = new LayerCache(root, 1 << 30, store);
        ExecutorService stages = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Path>> dirs = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        dirs.add(stages.submit(() -> {
          try (LayerCache.Lease lease = cache.acquire(layer.diffId(), layer.blob().digest())) {
            return lease.dir();
          }
        }));
      }
      Thread.sleep(200);
      store.gate.countDown();
      for (Future<Path> d : dirs) {
        assertThat(d.get()).isEqualTo(root.resolve(layer.diffId().hex()));
      }
      assertThat(store.opens).hasValue(1);
    }
  }

  @Test
  void aStageWaitingForAnotherStagesExtractionCanBeCancelled() throws Exception {
    CountingStore store = new CountingStore();
    LayerResult layer = storedLayer(store);
    store.gate = new CountDownLatch(1); // the extraction does not end during the test
    try (LayerCache cache = new LayerCache(dir.resolve("host-layers"), 1 << 30, store);
        ExecutorService stages = Executors.newVirtualThreadPerTaskExecutor()) {
      stages.submit(() -> {
        cache.acquire(layer.diffId(), layer.blob().digest()).close();
        return null;
      });
      while (store.opens.get() == 0) {
        Thread.sleep(10);
      }
      java.util.concurrent.atomic.AtomicReference<Throwable> ended = new java.util.concurrent.atomic.AtomicReference<>();
      Thread waiting = Thread.ofVirtual().start(() -> {
        try {
          cache.acquire(layer.diffId(), layer.blob().digest()).close();
        } catch (Throwable t) {
          ended.set(t);
        }
      });
      Thread.sleep(200);
      waiting.interrupt(); // a cancelled stage's thread is interrupted
      waiting.join(5000);
      assertThat(waiting.isAlive()).as("the waiting stage ended while the extraction still runs").isFalse();
      assertThat(ended.get()).isInstanceOf(java.io.InterruptedIOException.class)
          .hasMessageContaining("interrupted while layer " + layer.diffId());
      store.gate.countDown();
    }
  }

  @Test
  void whenTheExtractionFailsAStageThatWaitedForItExtractsTheLayerItself() throws Exception {
    CountingStore store = new CountingStore();
    LayerResult layer = storedLayer(store);
    Path root = dir.resolve("host-layers");
    store.gate = new CountDownLatch(1);
    store.failing.set(1);
    try (LayerCache cache = new LayerCache(root, 1 << 30, store);
        ExecutorService stages = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Path>> dirs = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        dirs.add(stages.submit(() -> {
          try (LayerCache.Lease lease = cache.acquire(layer.diffId(), layer.blob().digest())) {
            return lease.dir();
          }
        }));
      }
      Thread.sleep(200);
      store.gate.countDown();
      int failed = 0;
      for (Future<Path> d : dirs) {
        try {
          assertThat(d.get()).isEqualTo(root.resolve(layer.diffId().hex()));
        } catch (java.util.concurrent.ExecutionException e) {
          assertThat(e.getCause()).hasMessageContaining("not readable just now");
          failed++;
        }
      }
      assertThat(failed).as("the stage whose extraction failed").isEqualTo(1);
      assertThat(store.opens).hasValue(2);
    }
  }

  @Test
  void aTruncatedStoreEntryIsNeverServedAndIsExtractedAgain() throws Exception {
    CountingStore store = new CountingStore();
    LayerResult layer = storedLayer(store);
    Path root = dir.resolve("host-layers");
    Path entry = root.resolve(layer.diffId().hex());
    try (LayerCache cache = new LayerCache(root, 1 << 30, store)) {
      cache.acquire(layer.diffId(), layer.blob().digest()).close();
    }
    // damaged between runs: a file cut short
    Files.write(entry.resolve("a.txt"), "alp".getBytes());

    try (LayerCache cache = new LayerCache(root, 1 << 30, store);
        LayerCache.Lease lease = cache.acquire(layer.diffId(), layer.blob().digest())) {
      assertThat(Files.readString(lease.dir().resolve("a.txt"))).isEqualTo("alpha ".repeat(1000));
    }
    assertThat(store.opens).hasValue(2);
  }

  @Test
  void anEntryPublishedWithoutItsRecordIsNotTrusted() throws Exception {
    CountingStore store = new CountingStore();
    LayerResult layer = storedLayer(store);
    Path root = dir.resolve("host-layers");
    try (LayerCache cache = new LayerCache(root, 1 << 30, store)) {
      cache.acquire(layer.diffId(), layer.blob().digest()).close();
    }
    // a process killed between the rename and the record (or a tree someone put there by hand)
    Files.delete(root.resolve(layer.diffId().hex() + ".ok"));
    Files.writeString(root.resolve(layer.diffId().hex()).resolve("planted"), "x");

    try (LayerCache cache = new LayerCache(root, 1 << 30, store);
        LayerCache.Lease lease = cache.acquire(layer.diffId(), layer.blob().digest())) {
      assertThat(lease.dir().resolve("planted")).doesNotExist();
      assertThat(lease.dir().resolve("sub/b.txt")).exists();
    }
    assertThat(store.opens).hasValue(2);
  }

  @Test
  void aLayersXattrsAndOpaqueDirsAreIndexedOnceAndSurviveARestart() throws Exception {
    Path tree = Files.createDirectories(dir.resolve("xtree"));
    Path tool = Files.writeString(tree.resolve("tool"), "t");
    Files.createDirectories(tree.resolve("opaque"));
    Files.writeString(tree.resolve("opaque/.wh..wh..opq"), "");
    new ProcessBuilder("setfattr", "-n", "user.note", "-v", "kept", tool.toString()).inheritIO().start().waitFor();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LayerResult layer = new LayerWriter(LayerWriter.Options.defaults().withCompression(Compression.GZIP))
        .write(tree, out);
    CountingStore store = new CountingStore();
    store.putBlob(layer.blob().digest(), out.size(), new ByteArrayInputStream(out.toByteArray()));
    Path root = dir.resolve("host-layers");
    try (LayerCache cache = new LayerCache(root, 1 << 30, store);
        LayerCache.Lease lease = cache.acquire(layer.diffId(), layer.blob().digest())) {
      assertThat(new String(lease.xattrs().get("tool").get("user.note"))).isEqualTo("kept");
      assertThat(lease.xattrs().opaque("opaque")).isTrue();
      assertThat(lease.xattrs().opaque("")).isFalse();
    }
    try (LayerCache cache = new LayerCache(root, 1 << 30, store);
        LayerCache.Lease lease = cache.acquire(layer.diffId(), layer.blob().digest())) {
      assertThat(lease.xattrs().opaque("opaque")).isTrue(); // from the sidecar: not extracted again
    }
    assertThat(store.opens).hasValue(1);

    // an entry whose index is gone is not trusted: a stage would miss its opaque dirs and capabilities
    Files.delete(root.resolve(layer.diffId().hex() + ".xattrs"));
    try (LayerCache cache = new LayerCache(root, 1 << 30, store);
        LayerCache.Lease lease = cache.acquire(layer.diffId(), layer.blob().digest())) {
      assertThat(lease.xattrs().opaque("opaque")).isTrue();
    }
    assertThat(store.opens).hasValue(2);
  }

  @Test
  void aBlobThatIsNotItsDiffIdIsNeverPublished() throws Exception {
    CountingStore store = new CountingStore();
    LayerResult layer = storedLayer(store);
    Path root = dir.resolve("host-layers");
    Digest claimed = Digest.of("some other layer");
    try (LayerCache cache = new LayerCache(root, 1 << 30, store)) {
      assertThatThrownBy(() -> cache.acquire(claimed, layer.blob().digest()))
          .hasMessageContaining("expected " + claimed);
    }
    try (var left = Files.list(root)) {
      assertThat(left).isEmpty();
    }
  }
}
