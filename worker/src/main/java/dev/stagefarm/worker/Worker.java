package dev.stagefarm.worker;

import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.worker.config.WorkerConfig;
import dev.stagefarm.worker.exec.StageExecutors;
import dev.stagefarm.worker.kafka.FarmTopics;
import dev.stagefarm.worker.kafka.TaskLoop;
import dev.stagefarm.worker.kafka.TaskSlot;
import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.s3.S3CacheRecords;
import dev.stagefarm.worker.s3.S3ContentStore;
import dev.stagefarm.worker.store.ContentStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stagefarm worker: takes stage tasks from Kafka, executes them with runc over overlayfs,
 * uploads layers to the content store and reports on Kafka. Start several in one JVM for an
 * all-in-one farm (give each its own work dir and worker id).
 *
 * <pre>{@code
 * try (Worker worker = new Worker(config).start()) { ... }
 * }</pre>
 */
public final class Worker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Worker.class);

  private final WorkerConfig config;
  private final java.util.Optional<Path> layerStore;
  private BlobStore store;
  private LayerCache layers;
  private TaskLoop loop;

  /** A worker whose extracted layers live in its work dir ({@code <work-dir>/layers}). */
  public Worker(WorkerConfig config) {
    this.config = config;
    this.layerStore = java.util.Optional.empty();
  }

  /**
   * A worker that shares the unpacked-layer store at {@code layerStore} with the other workers of
   * this process naming the same directory (the embedded farm's workers: one extraction per layer
   * for all of them, and a stage's result is local to every worker of the host).
   */
  public Worker(WorkerConfig config, Path layerStore) {
    this.config = config;
    this.layerStore = java.util.Optional.of(layerStore);
  }

  /**
   * Cleans what a killed predecessor left in the work dir, connects to the store, makes sure the
   * topics exist (when configured), and starts claiming tasks.
   *
   * @throws UncheckedIOException when the work dir or the store cannot be set up
   */
  public synchronized Worker start() {
    try {
      StageExecutors.WorkDir workDir = new StageExecutors.WorkDir(Files.createDirectories(config.workDir()));
      StaleState.clean(workDir, config.runc());
      store = BlobStore.connect(new S3Config(config.s3Endpoint(), config.s3AccessKey(), config.s3SecretKey(),
          config.bucket(), config.s3Region()));
      store.ensureBucket();
      if (config.createTopics()) {
        FarmTopics.ensure(config.kafka(), config.kafkaSecurity(), FarmTopics.Layout.singleBroker());
      }
      ContentStore content = new S3ContentStore(store);
      layers = new LayerCache(layerStore.orElse(workDir.layers()), config.layerCacheBytes(), content);
      StageRunner executor = StageExecutors.create(config, workDir, content, new S3CacheRecords(store, config.farmKeys()), layers,
          nofileHardLimit());
      TaskSlot.Settings settings = new TaskSlot.Settings(config.kafka(), config.shareGroup(), config.workerId(),
          config.pollTimeout(), config.shutdownGrace(), Duration.ofSeconds(30), config.faultPause(), config.farmKeys(),
          config.kafkaSecurity());
      loop = new TaskLoop(settings, config.concurrency(), config.heartbeatInterval(), executor).start();
      log.info("worker {} started: {} slot(s), work dir {}", config.workerId(), config.concurrency(), config.workDir());
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException("starting worker " + config.workerId() + " failed: " + e.getMessage(), e);
    }
  }

  public String id() {
    return config.workerId();
  }

  /** Stops claiming, lets running stages finish within the shutdown grace, releases the rest. */
  @Override
  public synchronized void close() {
    if (loop != null) {
      loop.close();
      loop = null;
    }
    if (layers != null) {
      layers.close();
      layers = null;
    }
    if (store != null) {
      store.close();
      store = null;
    }
  }

  /** The hard RLIMIT_NOFILE of this process, read from /proc (no API for it in Java). */
  static long nofileHardLimit() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String[] parts = line.substring("Max open files".length()).trim().split("\\s+");
          return parts[1].equals("unlimited") ? 1_048_576 : Long.parseLong(parts[1]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through to a safe value
    }
    return 1024;
  }
}
