package dev.stagefarm.worker;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.image.BuiltImage;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.layer.LayerExtractor;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.ProgramCodec;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.Descriptor;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.Layer;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageInput;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.KafkaFixture;
import dev.stagefarm.testkit.S3Fixture;
import dev.stagefarm.testkit.TempDirectories;
import dev.stagefarm.worker.config.WorkerConfig;
import dev.stagefarm.worker.kafka.FarmMacs;
import dev.stagefarm.worker.kafka.FarmTopics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A real farm minus the coordinator, for execution tests: the shared Kafka broker and S3 server, one
 * bucket, a worker, and helpers that publish a stage task (with the build secrets a client would
 * send, sealed in the bucket as the coordinator does) and wait for its outcome.
 */
public final class StageHarness implements AutoCloseable {
  /**
   * The farm key of the worker tests: one for every worker and publisher on the shared test broker,
   * also in child JVMs ({@link WorkerMain}), as one farm's parts share theirs.
   */
  public static final FarmKeys FARM_KEYS =
      FarmKeys.of(List.of("stagefarm-worker-tests-farm-key!".getBytes(java.nio.charset.StandardCharsets.UTF_8)));

  public final String kafka;
  public final S3Config s3;
  public final BlobStore store;
  public final Path workDir;
  private final WorkerConfig config;
  private Worker worker;
  private final EventWatcher watcher;
  private final KafkaProducer<String, byte[]> producer;
  private ImageState busybox;

  public StageHarness(int concurrency) throws IOException {
    this(concurrency, true);
  }

  /** @param startWorker false: start it later with {@link #startWorker()} (e.g. after another worker claimed a task) */
  public StageHarness(int concurrency, boolean startWorker) throws IOException {
    this(concurrency, startWorker, c -> c);
  }

  /** @param customize changes the worker's config (e.g. a setting under test) */
  public StageHarness(int concurrency, boolean startWorker, java.util.function.UnaryOperator<WorkerConfig> customize)
      throws IOException {
    kafka = KafkaFixture.bootstrapServers();
    FarmTopics.ensure(kafka, FarmTopics.Layout.singleBroker());
    s3 = S3Fixture.newBucket("worker-exec");
    store = BlobStore.connect(s3);
    workDir = TempDirectories.createDeletedAtExit("stagefarm-worker-");
    config = customize.apply(WorkerConfig.of(kafka, s3.endpoint(), s3.accessKey(), s3.secretKey(), s3.bucket(),
            workDir.resolve("work"))
        .withConcurrency(concurrency)
        .withWorkerId("exec-worker")
        .withTimings(Duration.ofMillis(500), Duration.ofMillis(500), Duration.ofSeconds(5))
        .withFarmKeys(FARM_KEYS));
    watcher = new EventWatcher(kafka);
    producer = new KafkaProducer<>(Map.of("bootstrap.servers", kafka), new StringSerializer(), new ByteArraySerializer());
    if (startWorker) {
      startWorker();
    }
  }

  public synchronized void startWorker() {
    worker = new Worker(config).start();
  }

  /** The busybox test image as a stage base, its blobs in this harness' store. */
  public synchronized ImageState busybox() throws IOException {
    if (busybox == null) {
      BuiltImage image = BusyboxImage.storeIn(store);
      ImageState.Builder state = ImageState.newBuilder()
          .setConfigJson(com.google.protobuf.ByteString.copyFrom(ImageJson.writeConfig(image.config())))
          .setOrigin("busybox");
      for (int i = 0; i < image.manifest().layers().size(); i++) {
        var d = image.manifest().layers().get(i);
        state.addLayers(Layer.newBuilder()
            .setBlob(Descriptor.newBuilder().setMediaType(d.mediaType()).setDigest(d.digest().toString()).setSize(d.size()))
            .setDiffId(image.config().diffIds().get(i).toString()));
      }
      busybox = state.build();
    }
    return busybox;
  }

  /** Uploads files (path → content) as a build context in the store; select from it for COPY and bind mounts. */
  public TestContext context(Map<String, String> files) {
    return new TestContext(TestContext.utf8(files), content -> {
      try {
        return store.putBytes(Namespace.CONTEXT, content).digest();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  /** A schema-2 task carrying {@code program}, on {@code base}. */
  public StageTask.Builder task(StageProgram program, ImageState base) {
    return StageTask.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setBuildId("b-" + UUID.randomUUID())
        .setStageId("0-" + program.stageName())
        .setStageName(program.stageName())
        .setAttempt(1)
        .setBase(base)
        .setProgram(ProgramCodec.toProto(program));
  }

  public static StageInput input(String name, ImageState result) {
    return StageInput.newBuilder().setName(name).setResult(result).build();
  }

  /**
   * Seals {@code secrets} for the task's build in the bucket, as the coordinator does for what the
   * client sent, and marks the task as having them.
   */
  public StageTask withSecrets(StageTask.Builder task, Map<String, String> secrets) throws IOException {
    Map<String, byte[]> values = new java.util.TreeMap<>();
    secrets.forEach((id, value) -> values.put(id, value.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    store.putSealed("secrets/" + task.getBuildId(),
        dev.stagefarm.program.SecretSeal.seal(FARM_KEYS, dev.stagefarm.program.SecretSeal.Kind.BUILD_SECRETS,
            task.getBuildId(), values));
    return task.setBuildSecrets(true).build();
  }

  /** Publishes the task and returns its completed or failed event. */
  public StageEvent run(StageTask task) {
    publish(task);
    return watcher.await(e -> e.getBuildId().equals(task.getBuildId())
        && (e.hasCompleted() || e.hasFailed()), Duration.ofSeconds(120));
  }

  public StageEvent awaitEvent(java.util.function.Predicate<StageEvent> until, Duration timeout) {
    return watcher.await(until, timeout);
  }

  public void drainEvents(Duration duration) {
    watcher.drain(duration);
  }

  public void publish(StageTask task) {
    try {
      producer.send(FarmMacs.sign(config.farmKeys(), FarmKeys.Purpose.TASK,
          new ProducerRecord<>(Topics.TASKS, task.getBuildId(), task.toByteArray()))).get();
    } catch (Exception e) {
      throw new AssertionError("publishing the task failed", e);
    }
  }

  public List<StageEvent> events(String buildId) {
    return watcher.events(e -> e.getBuildId().equals(buildId));
  }

  /** Completed result or an assertion error with the failure message. */
  public static ImageState completed(StageEvent event) {
    if (!event.hasCompleted()) {
      throw new AssertionError("stage failed: " + event.getFailed().getMessage() + "\n" + event.getFailed().getOutputTail());
    }
    return event.getCompleted().getResult();
  }

  /** Applies every layer of {@code state} into a fresh directory (whiteouts delete). */
  public Path unpack(ImageState state) throws IOException {
    Path root = Files.createTempDirectory(workDir, "unpacked-");
    for (Layer layer : state.getLayersList()) {
      try (InputStream in = store.open(Namespace.BLOBS, Digest.parse(layer.getBlob().getDigest()))) {
        new LayerExtractor(LayerExtractor.Mode.APPLY).extract(in, root);
      }
    }
    return root;
  }

  /** The entries (name → bytes of regular files) of one layer. */
  public Map<String, byte[]> layerEntries(Layer layer) throws IOException {
    Map<String, byte[]> entries = new TreeMap<>();
    try (InputStream in = store.open(Namespace.BLOBS, Digest.parse(layer.getBlob().getDigest()));
        TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(in))) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        entries.put(e.getName(), e.isFile() ? tar.readAllBytes() : new byte[0]);
      }
    }
    return entries;
  }

  /** The layers {@code result} added on top of {@code base}. */
  public static List<Layer> newLayers(ImageState base, ImageState result) {
    return new ArrayList<>(result.getLayersList().subList(base.getLayersCount(), result.getLayersCount()));
  }

  @Override
  public void close() {
    if (worker != null) {
      worker.close();
    }
    producer.close();
    watcher.close();
    store.close();
  }
}
