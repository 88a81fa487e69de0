package dev.stagefarm.worker;

import dev.stagefarm.program.StageProgram;
import dev.stagefarm.program.TaskRouting;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.FileBlobStore;
import dev.stagefarm.oci.store.S3BlobStore;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.worker.config.WorkerConfig;
import dev.stagefarm.worker.exec.StageExecutor;
import dev.stagefarm.worker.exec.StageExecutors;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.worker.kafka.KafkaWorkerTransport;
import dev.stagefarm.worker.transport.InProcessWorkerTransport;
import dev.stagefarm.worker.transport.WorkerTransport;
import dev.stagefarm.worker.kafka.FarmTopics;
import dev.stagefarm.worker.kafka.PresenceAnnouncer;
import dev.stagefarm.worker.kafka.TaskLoop;
import dev.stagefarm.worker.kafka.TaskSlot;
import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.runtime.RunNetworkPool;
import dev.stagefarm.worker.metrics.MeteredCacheRecords;
import dev.stagefarm.worker.metrics.MeteredContentStore;
import dev.stagefarm.worker.metrics.WorkerMetrics;
import dev.stagefarm.worker.trace.TracedStageRunner;
import dev.stagefarm.worker.s3.S3CacheRecords;
import dev.stagefarm.worker.s3.S3ContentStore;
import dev.stagefarm.worker.store.ContentStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stagefarm worker: takes stage tasks from Kafka (or, in the one-shot farm, from the in-process bus its
 * {@code kafka} setting names: {@link InProcessBus#ADDRESS_PREFIX}), executes them with runc over overlayfs,
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
  private final WorkerMetrics metrics;
  private final java.util.Optional<Path> layerStore;
  private BlobStore store;
  private LayerCache layers;
  private StageExecutor executor;
  private volatile TaskLoop loop;
  private int maxProgramVersion = StageProgram.VERSION;
  private io.opentelemetry.api.OpenTelemetry tracing;
  private PresenceAnnouncer presence;
  private RunNetworkPool runNetworks = RunNetworkPool.ownAtStart();
  /** The work dir's lock ({@link #LOCK_FILE}), held from before the start-up cleanup until {@link #close()}. */
  private HeldLock workDirLock;

  /**
   * The file in a work dir its worker holds the lock on: one worker per work dir, whichever process or farm runs it
   * (a second one's start-up cleanup would unmount under the first's running stages).
   */
  public static final String LOCK_FILE = "worker.lock";

  /** A worker whose extracted layers live in its work dir ({@code <work-dir>/layers}). */
  public Worker(WorkerConfig config) {
    this(config, WorkerMetrics.none());
  }

  /** @param metrics where slots, cache lookups and content-store traffic are counted (docs/operations.md) */
  public Worker(WorkerConfig config, WorkerMetrics metrics) {
    this(config, metrics, java.util.Optional.empty());
  }

  /**
   * A worker that shares the unpacked-layer store at {@code layerStore} with the other workers of
   * this process naming the same directory (the embedded farm's workers: one extraction per layer
   * for all of them, and a stage's result is local to every worker of the host).
   */
  public Worker(WorkerConfig config, Path layerStore) {
    this(config, WorkerMetrics.none(), java.util.Optional.of(layerStore));
  }

  /** A worker sharing {@code layerStore} (as above) that counts into {@code metrics} ({@code stagefarm up}). */
  public Worker(WorkerConfig config, Path layerStore, WorkerMetrics metrics) {
    this(config, metrics, java.util.Optional.of(layerStore));
  }

  private Worker(WorkerConfig config, WorkerMetrics metrics, java.util.Optional<Path> layerStore) {
    this.config = config;
    this.metrics = metrics;
    this.layerStore = layerStore;
  }

  /**
   * A worker that runs stage programs up to {@code version} only and hands newer ones back: what a
   * worker of an older release does during a rolling upgrade (docs/protocol.md, "Rolling upgrades").
   * Call before {@link #start()}.
   */
  public synchronized Worker understandingProgramsUpTo(int version) {
    maxProgramVersion = version;
    return this;
  }

  /**
   * Records stage and op spans with {@code openTelemetry}, joining the coordinator's trace the task
   * carries (docs/operations.md, "Traces"). Call before {@link #start()}; without it, no spans.
   */
  public synchronized Worker traceTo(io.opentelemetry.api.OpenTelemetry openTelemetry) {
    tracing = openTelemetry;
    return this;
  }

  /**
   * Where the RUNs take their sandbox networks from ({@link RunNetworkPool}): the worker's own pool made at its start
   * (without this call), its own made on demand (the one-shot farm's), or one shared with the other workers of this
   * process (the embedded farms': a burst's worth and a spare instead of each worker's slots and a spare; docs/
   * operations.md, "Idle cost"). Call before {@link #start()}.
   */
  public synchronized Worker runNetworksFrom(RunNetworkPool pool) {
    runNetworks = java.util.Objects.requireNonNull(pool, "pool");
    return this;
  }

  /** Tasks of a newer program version this worker handed back (0 before the start). */
  public long tasksHandedBack() {
    TaskLoop current = loop;
    return current == null ? 0 : current.tasksHandedBack();
  }

  /**
   * Takes the work dir's lock, cleans what a killed predecessor left in the work dir, connects to the store, makes
   * sure the topics exist (when configured), and starts claiming tasks. A start that fails stops what it started and
   * frees the work dir.
   *
   * @throws UncheckedIOException when the work dir or the store cannot be set up, or another worker (of any process)
   *     runs in the work dir: naming it and its lock file
   */
  public synchronized Worker start() {
    try {
      boolean existed = Files.exists(config.workDir(), java.nio.file.LinkOption.NOFOLLOW_LINKS);
      Path root = Files.createDirectories(config.workDir());
      workDirLock = holdWorkDir(root, config.workerId());
      StageExecutors.WorkDir workDir = new StageExecutors.WorkDir(root);
      if (existed) {
        // a work dir made just now holds nothing a killed predecessor left: no mount table to read (a one-shot's 32
        // workers start in fresh dirs while its stages mount overlays), no runc state to list
        StaleState.clean(workDir, config.runc());
      }
      store = openStore(config);
      // the one-shot farm's workers share the coordinator's JVM and no broker: an in-process address
      boolean inProcess = InProcessBus.isAddress(config.kafka());
      if (config.createTopics() && !inProcess) {
        FarmTopics.ensure(config.kafka(), config.kafkaSecurity(), FarmTopics.Layout.singleBroker());
      }
      ContentStore content = new MeteredContentStore(new S3ContentStore(store), metrics);
      layers = new LayerCache(layerStore.orElse(workDir.layers()), config.layerCacheBytes(), content);
      executor = StageExecutors.create(config, workDir, runNetworks, content,
          new MeteredCacheRecords(new S3CacheRecords(store, config.farmKeys()), metrics), layers, nofileHardLimit());
      StageRunner runner = tracing == null ? executor : new TracedStageRunner(executor, tracing, config.workerId());
      TaskSlot.Settings settings = new TaskSlot.Settings(config.kafka(), config.shareGroup(), config.workerId(),
          config.pollTimeout(), config.shutdownGrace(), Duration.ofSeconds(30), config.faultPause(), config.farmKeys(),
          config.kafkaSecurity(), config.platforms().stream().map(TaskRouting::topic).toList());
      WorkerTransport transport = inProcess
          ? new InProcessWorkerTransport(InProcessBus.lookup(config.kafka()), config.farmKeys())
          : new KafkaWorkerTransport(settings);
      loop = new TaskLoop(transport, settings, config.concurrency(), config.heartbeatInterval(), runner,
          maxProgramVersion).start();
      TaskLoop started = loop;
      presence = new PresenceAnnouncer(transport.eventSink(config.workerId() + "-presence"), config.workerId(),
          config.platforms(),
          config.concurrency(), started::runningStages, java.time.Clock.systemUTC()).start();
      metrics.slots(config.concurrency(), () -> {
        TaskLoop current = loop;
        return current == null ? 0 : current.runningStages();
      });
      log.info("worker {} started: {} slot(s) for {}, work dir {}", config.workerId(), config.concurrency(),
          config.platforms(), config.workDir());
      return this;
    } catch (IOException e) {
      close();
      throw new UncheckedIOException("starting worker " + config.workerId() + " failed: " + e.getMessage(), e);
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /**
   * The lock of the work dir {@code root}, before anything in it is touched.
   *
   * @throws IOException when another worker holds it, naming that one (its holder line) and what to do
   */
  private static HeldLock holdWorkDir(Path root, String workerId) throws IOException {
    HeldLock.Result taken = HeldLock.tryHold(root.resolve(LOCK_FILE), HeldLock.thisProcess("worker " + workerId));
    if (taken.refusal() != null) {
      throw new IOException("work dir " + root + " is in use by " + taken.refusal().holder() + ", which holds "
          + taken.refusal().file() + ": give each worker its own work dir (work-dir, STAGEFARM_WORK_DIR), or stop"
          + " that one first");
    }
    return taken.held();
  }

  /**
   * The content store the {@code s3} setting names: an S3 endpoint (its bucket created unless it exists), or a
   * directory ({@code file:/path}: the embedded farms', whose workers and coordinator share one host).
   */
  private static BlobStore openStore(WorkerConfig config) throws IOException {
    if (FileBlobStore.isLocation(config.s3Endpoint())) {
      try {
        return FileBlobStore.open(FileBlobStore.directoryOf(config.s3Endpoint()));
      } catch (IllegalArgumentException e) {
        throw new IOException(e.getMessage(), e);
      }
    }
    S3BlobStore s3 = BlobStore.connect(new S3Config(config.s3Endpoint(), config.s3Credentials(), config.bucket(),
        config.s3Region()));
    try {
      s3.ensureBucket();
    } catch (IOException | RuntimeException e) {
      s3.close();
      throw e;
    }
    return s3;
  }

  public String id() {
    return config.workerId();
  }

  /** Empty while the worker's loop threads take turns ({@code /livez}); else why not. */
  public Optional<String> whyNotLive() {
    TaskLoop current = loop;
    return current == null ? Optional.of("the worker is not running") : current.whyNotLive();
  }

  /** Empty while every slot consumes tasks ({@code /readyz}); else why not. */
  public Optional<String> whyNotReady() {
    TaskLoop current = loop;
    return current == null ? Optional.of("the worker is not running") : current.whyNotReady();
  }

  /** Stops claiming, lets running stages finish within the shutdown grace, releases the rest. */
  @Override
  public synchronized void close() {
    if (presence != null) {
      presence.close(); // first: a closing worker takes no new tasks
      presence = null;
    }
    if (loop != null) {
      loop.close();
      loop = null;
    }
    if (executor != null) {
      executor.close(); // after the loop: no RUN uses a sandbox network any more
      executor = null;
    }
    if (layers != null) {
      layers.close();
      layers = null;
    }
    if (store != null) {
      store.close();
      store = null;
    }
    if (workDirLock != null) {
      try {
        workDirLock.close(); // last: the work dir is free once nothing of this worker uses it
      } catch (IOException e) {
        log.warn("releasing the lock of work dir {} failed: {}", config.workDir(), e.getMessage());
      }
      workDirLock = null;
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
