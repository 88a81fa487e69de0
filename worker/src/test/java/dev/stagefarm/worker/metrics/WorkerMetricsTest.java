package dev.stagefarm.worker.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.worker.store.CachedOp;
import dev.stagefarm.worker.store.InMemoryCacheRecords;
import dev.stagefarm.worker.store.InMemoryContentStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WorkerMetricsTest {
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final WorkerMetrics metrics = new WorkerMetrics(registry);

  double counter(String name) {
    return registry.get(name).counter().count();
  }

  @Test
  void slotGaugesFollowTheRunningStages() {
    AtomicInteger running = new AtomicInteger();
    metrics.slots(3, running::get);

    assertThat(registry.get(WorkerMetrics.SLOTS_BUSY).gauge().value()).isZero();
    assertThat(registry.get(WorkerMetrics.SLOTS_FREE).gauge().value()).isEqualTo(3);
    running.set(2);
    assertThat(registry.get(WorkerMetrics.SLOTS_BUSY).gauge().value()).isEqualTo(2);
    assertThat(registry.get(WorkerMetrics.SLOTS_FREE).gauge().value()).isEqualTo(1);
  }

  @Test
  void countsCacheLookupsAndHits() throws Exception {
    InMemoryCacheRecords records = new InMemoryCacheRecords();
    CacheKey present = new CacheKey("a".repeat(64));
    records.put(present, CachedOp.NO_LAYER);
    MeteredCacheRecords metered = new MeteredCacheRecords(records, metrics);

    assertThat(metered.get(present)).isPresent();
    assertThat(metered.get(new CacheKey("b".repeat(64)))).isEmpty();
    metered.put(new CacheKey("c".repeat(64)), CachedOp.NO_LAYER);

    assertThat(counter(WorkerMetrics.CACHE_LOOKUPS)).isEqualTo(2);
    assertThat(counter(WorkerMetrics.CACHE_HITS)).isEqualTo(1);
    assertThat(records.all()).hasSize(2);
  }

  @Test
  void countsTheBytesThatFlowToAndFromTheStore() throws Exception {
    InMemoryContentStore store = new InMemoryContentStore();
    MeteredContentStore metered = new MeteredContentStore(store, metrics);
    byte[] layer = "a layer of eighteen".getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.of(layer);

    metered.putBlob(digest, layer.length, new ByteArrayInputStream(layer));
    assertThat(counter(WorkerMetrics.S3_UPLOADED)).isEqualTo(layer.length);

    try (InputStream in = metered.openBlob(digest)) {
      in.readNBytes(5);
    }
    assertThat(counter(WorkerMetrics.S3_DOWNLOADED)).as("what was read, not the blob's size").isEqualTo(5);
    try (InputStream in = metered.openBlob(digest)) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    assertThat(counter(WorkerMetrics.S3_DOWNLOADED)).isEqualTo(5 + layer.length);
  }

  @Test
  void countsALayerFileSentFromItsFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    MeteredContentStore metered = new MeteredContentStore(new InMemoryContentStore(), metrics);
    byte[] layer = "a layer the worker wrote to a file".getBytes(StandardCharsets.UTF_8);
    java.nio.file.Path file = java.nio.file.Files.write(dir.resolve("layer.tar"), layer);

    metered.putBlobFile(Digest.of(layer), layer.length, file);

    assertThat(counter(WorkerMetrics.S3_UPLOADED)).isEqualTo(layer.length);
  }
}
