package dev.stagefarm.worker.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.function.IntSupplier;

/**
 * A worker's meters (docs/operations.md, "Metrics"). The slot gauges are part of the deployment's
 * contract (dashboards, the Kubernetes manifests); no tag carries a build or stage id.
 */
public final class WorkerMetrics {
  public static final String SLOTS_BUSY = "stagefarm.worker.slots.busy";
  public static final String SLOTS_FREE = "stagefarm.worker.slots.free";
  public static final String CACHE_LOOKUPS = "stagefarm.worker.cache.lookups";
  public static final String CACHE_HITS = "stagefarm.worker.cache.hits";
  public static final String S3_UPLOADED = "stagefarm.worker.s3.uploaded";
  public static final String S3_DOWNLOADED = "stagefarm.worker.s3.downloaded";

  private final MeterRegistry registry;
  private final Tags tags;
  final Counter cacheLookups;
  final Counter cacheHits;
  final Counter uploaded;
  final Counter downloaded;

  public WorkerMetrics(MeterRegistry registry) {
    this(registry, Tags.empty());
  }

  /**
   * Meters carrying {@code tags} as well: several workers of one process counting into one
   * registry ({@code stagefarm up}: {@code worker=worker-1}, …), each its own series.
   */
  public WorkerMetrics(MeterRegistry registry, Tags tags) {
    this.registry = registry;
    this.tags = tags;
    cacheLookups = Counter.builder(CACHE_LOOKUPS).tags(tags)
        .description("Op cache records looked up (one per op whose key is known before it runs)").register(registry);
    cacheHits = Counter.builder(CACHE_HITS).tags(tags)
        .description("Op cache lookups that found a record: the op was not run").register(registry);
    uploaded = Counter.builder(S3_UPLOADED).baseUnit("bytes").tags(tags)
        .description("Bytes written to the content store (layer blobs)").register(registry);
    downloaded = Counter.builder(S3_DOWNLOADED).baseUnit("bytes").tags(tags)
        .description("Bytes read from the content store (layers, context files, programs, secrets)").register(registry);
  }

  /** Meters nobody reads (a worker started without a registry). */
  public static WorkerMetrics none() {
    return new WorkerMetrics(new CompositeMeterRegistry());
  }

  /** Registers the slot gauges of a task loop of {@code slots} slots, {@code busy} of them running a stage. */
  public void slots(int slots, IntSupplier busy) {
    Gauge.builder(SLOTS_BUSY, () -> busy.getAsInt()).tags(tags)
        .description("Task slots running a stage").register(registry);
    Gauge.builder(SLOTS_FREE, () -> Math.max(0, slots - busy.getAsInt())).tags(tags)
        .description("Task slots free to take a stage").register(registry);
  }
}
