package dev.stagefarm.worker.exec;

import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.Dockerfiles;
import dev.stagefarm.dockerfile.graph.BuildOptions;
import dev.stagefarm.dockerfile.graph.BuildPlan;
import dev.stagefarm.dockerfile.graph.PlannedStage;
import dev.stagefarm.dockerfile.graph.StageBase;
import dev.stagefarm.dockerfile.instructions.ArgInstruction;
import dev.stagefarm.dockerfile.instructions.Instruction;
import dev.stagefarm.dockerfile.instructions.OnbuildInstruction;
import dev.stagefarm.dockerfile.instructions.Origin;
import dev.stagefarm.dockerfile.instructions.RunInstruction;
import dev.stagefarm.dockerfile.instructions.StageScope;
import dev.stagefarm.dockerfile.instructions.WorkdirInstruction;
import dev.stagefarm.oci.Compression;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.ContainerConfig;
import dev.stagefarm.oci.image.HistoryEntry;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.layer.LayerResult;
import dev.stagefarm.oci.layer.LayerWriter;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.CacheRecord;
import dev.stagefarm.proto.v1.Descriptor;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.Layer;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.StageFailedException;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.StageProgress;
import dev.stagefarm.worker.StageRunner;
import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.layers.Trees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes a stage task, instruction by instruction (take task → materialise → execute →
 * snapshot/upload → report):
 *
 * <ol>
 *   <li>parse the task's Dockerfile with the frontend and take stage {@code stage_index};
 *   <li>materialise the base: its layers from the extracted-layer cache, stacked as overlay lowers;
 *   <li>per instruction: metadata updates the image config; RUN/COPY/ADD get a fresh overlay upper
 *       dir, execute, and that upper dir becomes a layer (tar → store) and the next lower dir;
 *   <li>record each instruction's result under its cache key; return the layers and config.
 * </ol>
 */
public final class StageExecutor implements StageRunner {
  private static final Logger log = LoggerFactory.getLogger(StageExecutor.class);
  private static final AtomicLong SEQUENCE = new AtomicLong();

  /** Per-stage bounds on streamed RUN output. */
  public record OutputLimits(long bytesPerSecond, long maxBytes) {}

  private final BlobStore store;
  private final LayerCache layers;
  private final RunEnvironment runEnvironment;
  private final Path stagesDir;
  private final String containerPrefix;
  private final OutputLimits outputLimits;
  private final RunStep runStep;
  private final CopyStep copyStep = new CopyStep();

  StageExecutor(BlobStore store, LayerCache layers, RunEnvironment runEnvironment, Path stagesDir,
      String containerPrefix, OutputLimits outputLimits) {
    this.store = store;
    this.layers = layers;
    this.runEnvironment = runEnvironment;
    this.stagesDir = stagesDir;
    this.containerPrefix = containerPrefix;
    this.outputLimits = outputLimits;
    this.runStep = new RunStep(runEnvironment);
  }

  @Override
  public ImageState run(StageTask task, StageProgress progress) throws StageFailedException, InterruptedException {
    long seq = SEQUENCE.incrementAndGet();
    Path dir = stagesDir.resolve(Long.toString(seq, 36));
    int[] current = {-1};
    int[] line = {0};
    try (StageWorkspace workspace = new StageWorkspace(dir)) {
      return execute(task, progress, workspace, seq, current, line);
    } catch (DockerfileException e) {
      throw new StageFailedException(StageFailure.build(current[0], e.line(), e.getMessage()), e);
    } catch (java.io.InterruptedIOException e) {
      throw new InterruptedException("stage cancelled");
    } catch (IOException e) {
      throw new StageFailedException(StageFailure.infrastructure(current[0], line[0],
          "worker I/O failed: " + e.getMessage()), e);
    }
  }

  private ImageState execute(StageTask task, StageProgress progress, StageWorkspace workspace, long seq,
      int[] current, int[] line) throws IOException, StageFailedException, InterruptedException {
    String dockerfile = task.getDockerfile().toString(StandardCharsets.UTF_8);
    // Plan for this stage, not the Dockerfile's last one: ONBUILD triggers and checks then apply
    // to what this stage reaches, and the task's platform sets TARGETPLATFORM & co. A stage index
    // the Dockerfile lacks is a DockerfileException, reported as a build failure by run().
    BuildPlan plan = Dockerfiles.planStage(dockerfile,
        new BuildOptions(null, task.getBuildArgsMap(), frontendPlatform(taskPlatform(task)), null),
        task.getStageIndex());
    PlannedStage stage = plan.stage(task.getStageIndex());
    ImageConfig image = baseConfig(task);

    long materialiseStart = System.nanoTime();
    materialise(task.getBase().getLayersList(), workspace);
    log.debug("materialised {} base layers in {} ms", task.getBase().getLayersCount(),
        (System.nanoTime() - materialiseStart) / 1_000_000);

    // ONBUILD triggers of a base image run first (those of a base stage are already in the plan)
    List<Instruction> instructions = new ArrayList<>();
    if (!(stage.base() instanceof StageBase.StageRef)) {
      for (String trigger : image.config().onBuild()) {
        instructions.add(new OnbuildInstruction(new Origin("ONBUILD", stage.stage().origin().line(),
            stage.stage().origin().line(), "ONBUILD " + trigger), trigger).trigger(stage.stage().origin().line()));
      }
    }
    image = image.updateConfig(c -> c.withOnBuild(List.of())); // triggers are not inherited
    int triggers = instructions.size();
    instructions.addAll(stage.instructions());

    StageScope scope = plan.scopeFor(task.getStageIndex(), image.config().env(),
        inheritedArgs(plan, stage, image.config().env()));
    ConfigUpdates configUpdates = new ConfigUpdates();
    SourceViews views = new SourceViews(task, store, layers, workspace);
    RunOutput.OutputBudget budget = new RunOutput.OutputBudget(outputLimits.bytesPerSecond(), outputLimits.maxBytes());
    List<Layer> resultLayers = new ArrayList<>(task.getBase().getLayersList());
    Instant epoch = sourceDateEpoch(task);

    for (int i = 0; i < instructions.size(); i++) {
      current[0] = i;
      Instruction instruction = scope.apply(instructions.get(i));
      line[0] = instruction.line();
      progress.instructionStarted(i);
      long started = System.currentTimeMillis();
      Optional<CacheRecord> hit = cachedResult(task, i - triggers);
      if (hit.isPresent()) {
        if (ConfigUpdates.isMetadata(instruction)) {
          configUpdates.apply(image, instruction); // keeps the stage's CMD-was-set state; the record has the config
        }
        Layer layer = hit.get().hasLayer() ? hit.get().getLayer() : null;
        if (layer != null) {
          workspace.stackLayer(layers.acquire(Digest.parse(layer.getDiffId()), Digest.parse(layer.getBlob().getDigest())));
          resultLayers.add(layer);
        }
        image = withOurLayers(ImageJson.readConfig(hit.get().getConfigJson().toByteArray()), resultLayers);
        progress.instructionDone(i, layer, true, started, System.currentTimeMillis());
        continue;
      }
      Layer layer;
      if (ConfigUpdates.isMetadata(instruction)) {
        image = configUpdates.apply(image, instruction);
        if (instruction instanceof dev.stagefarm.dockerfile.instructions.EnvInstruction) {
          image = image.updateConfig(c -> c.withEnvList(scope.imageEnv()));
        }
        ContainerConfig config = image.config();
        // BuildKit's WORKDIR makes the directory (owned by the current USER): a layer when it was missing
        layer = instruction instanceof WorkdirInstruction && !config.workingDir().equals("/")
            ? filesystemStep(workspace, i, epoch, fs -> createWorkdir(fs.merged, config))
            : null;
      } else {
        ContainerConfig config = image.config();
        int index = i;
        layer = filesystemStep(workspace, i, epoch, fs -> {
          if (instruction instanceof RunInstruction run) {
            runStep.execute(run, index, config, scope.envList(), fs, views, progress, budget,
                containerPrefix + "-" + Long.toString(seq, 36) + "-" + index);
          } else {
            copyStep.execute(instruction, index, config, fs.merged, views);
          }
        });
      }
      if (layer != null) {
        resultLayers.add(layer);
        image = image.withLayer(Digest.parse(layer.getDiffId()), history(instruction, epoch, false));
      } else if (!(instruction instanceof ArgInstruction)) {
        image = image.withHistory(history(instruction, epoch, true));
      }
      recordCache(task, i - triggers, layer, image);
      progress.instructionDone(i, layer, false, started, System.currentTimeMillis());
    }
    current[0] = -1;
    for (Path mount : dev.stagefarm.worker.runtime.Mounts.mountPointsUnder(workspace.dir)) {
      dev.stagefarm.worker.runtime.Mounts.unmount(mount); // input views may still stack our layers' dirs
    }
    workspace.adoptLayersInto(layers);
    byte[] config = ImageJson.writeConfig(image);
    return ImageState.newBuilder()
        .addAllLayers(resultLayers)
        .setConfigJson(com.google.protobuf.ByteString.copyFrom(config))
        .setOrigin("stage:" + stage.displayName())
        .build();
  }

  /**
   * Takes the base layers from the layer cache, downloading and extracting the missing ones in
   * parallel. Every lease lands in the workspace (in layer order) so it is released with it, also
   * when one layer fails.
   */
  private void materialise(List<Layer> base, StageWorkspace workspace) throws IOException, InterruptedException {
    IOException failure = null;
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      List<java.util.concurrent.Future<LayerCache.Lease>> leases = new ArrayList<>();
      for (Layer layer : base) {
        leases.add(pool.submit(() ->
            layers.acquire(Digest.parse(layer.getDiffId()), Digest.parse(layer.getBlob().getDigest()))));
      }
      for (var lease : leases) {
        try {
          workspace.stackLayer(lease.get());
        } catch (java.util.concurrent.ExecutionException e) {
          if (failure == null) {
            failure = e.getCause() instanceof IOException io ? io
                : new IOException("materialising a base layer failed: " + e.getCause(), e.getCause());
          }
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * The ARG values a stage built {@code FROM} another stage starts with: what the parent stage (and
   * its own parents) declared, replayed with the frontend. The parent's base env is not in the
   * task; the parent's result env (this stage's base env) stands in for ARG default expansions.
   */
  private static Map<String, String> inheritedArgs(BuildPlan plan, PlannedStage stage, List<String> env) {
    if (!(stage.base() instanceof StageBase.StageRef parentRef)) {
      return Map.of();
    }
    PlannedStage parent = plan.stage(parentRef.index());
    StageScope scope = plan.scopeFor(parent.index(), env, inheritedArgs(plan, parent, env));
    for (Instruction instruction : parent.instructions()) {
      if (instruction instanceof ArgInstruction || instruction instanceof dev.stagefarm.dockerfile.instructions.EnvInstruction) {
        try {
          scope.apply(instruction);
        } catch (DockerfileException e) {
          // the parent stage already ran with these instructions; an expansion that fails here changes nothing
        }
      }
    }
    return scope.argValues();
  }

  /** Changes the filesystem of one instruction; runs on a fresh overlay upper dir. */
  @FunctionalInterface
  private interface FilesystemChange {
    void apply(StageWorkspace.Layered fs) throws IOException, StageFailedException, InterruptedException;
  }

  /**
   * Mounts a fresh upper dir over the stack, applies {@code change}, unmounts, and turns a
   * non-empty upper dir into a layer in the store (it then becomes the next lower dir). An
   * unchanged filesystem gives no layer, as in BuildKit.
   */
  private Layer filesystemStep(StageWorkspace workspace, int index, Instant epoch, FilesystemChange change)
      throws IOException, StageFailedException, InterruptedException {
    long t0 = System.nanoTime();
    Path upper;
    long t1;
    long t2;
    try (StageWorkspace.Layered fs = workspace.mountWritable(Integer.toString(index))) {
      upper = fs.upper;
      t1 = System.nanoTime();
      change.apply(fs);
      t2 = System.nanoTime();
    }
    long t3 = System.nanoTime();
    Layer layer = null;
    if (Trees.isEmpty(upper)) {
      Files.delete(upper);
    } else {
      layer = snapshot(upper, workspace, index, epoch);
      workspace.pushLayer(upper, layer.getDiffId());
    }
    log.debug("instruction {}: mount {} ms, execute {} ms, unmount {} ms, snapshot {} ms", index,
        (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000, (System.nanoTime() - t3) / 1_000_000);
    return layer;
  }

  private static void createWorkdir(Path rootfs, ContainerConfig config) throws IOException {
    Path dir = dev.stagefarm.worker.runtime.RootfsPaths.resolveLenient(rootfs, config.workingDir());
    if (Files.isDirectory(dir)) {
      return;
    }
    dev.stagefarm.worker.runtime.ResolvedUser owner;
    try {
      owner = dev.stagefarm.worker.runtime.UserResolver.resolve(rootfs, config.user());
    } catch (dev.stagefarm.worker.runtime.UserResolver.UnknownUserException e) {
      owner = dev.stagefarm.worker.runtime.ResolvedUser.ROOT;
    }
    List<Path> missing = new ArrayList<>();
    for (Path p = dir; p != null && p.startsWith(rootfs) && !Files.exists(p); p = p.getParent()) {
      missing.addFirst(p);
    }
    for (Path p : missing) {
      Files.createDirectory(p);
      FileAttrs.setMode(p, 0755);
      FileAttrs.chown(p, owner.uid(), owner.gid());
    }
  }

  /** The upper dir as a reproducible layer in the store (HEAD first: an existing blob is not sent again). */
  private Layer snapshot(Path upper, StageWorkspace workspace, int index, Instant epoch) throws IOException {
    LayerWriter.Options options = LayerWriter.Options.defaults().withCompression(Compression.GZIP).withOverlayUpper(true);
    if (epoch != null) {
      options = options.withSourceDateEpoch(epoch);
    }
    Path tar = workspace.dir.resolve("layer-" + index + ".tar.gz");
    LayerResult result = new LayerWriter(options).write(upper, tar);
    try (InputStream in = Files.newInputStream(tar)) {
      store.put(Namespace.BLOBS, result.blob().digest(), result.blob().size(), in);
    }
    Files.delete(tar);
    return Layer.newBuilder()
        .setBlob(Descriptor.newBuilder()
            .setMediaType(result.blob().mediaType())
            .setDigest(result.blob().digest().toString())
            .setSize(result.blob().size()))
        .setDiffId(result.diffId().toString())
        .build();
  }

  /**
   * The recorded result of instruction {@code index} when an earlier build (or stage) already ran
   * the same key chain (DESIGN.md §7): the worker takes its layer and config instead of running it.
   */
  private Optional<CacheRecord> cachedResult(StageTask task, int index) throws IOException {
    if (!task.getReuseCachedInstructions() || index < 0 || index >= task.getInstructionsCount()
        || task.getInstructions(index).getCacheKey().isEmpty()) {
      return Optional.empty();
    }
    Optional<byte[]> bytes = store.getRecord(task.getInstructions(index).getCacheKey());
    if (bytes.isEmpty()) {
      return Optional.empty();
    }
    try {
      CacheRecord record = CacheRecord.parseFrom(bytes.get());
      return record.getConfigJson().isEmpty() ? Optional.empty() : Optional.of(record);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      log.warn("ignoring an unreadable cache record {}", task.getInstructions(index).getCacheKey());
      return Optional.empty();
    }
  }

  /**
   * A cached config with this stage's own layer list: equal keys mean equivalent filesystems, but
   * a non-reproducible RUN elsewhere may have given another digest for an earlier layer.
   */
  private static ImageConfig withOurLayers(ImageConfig cached, List<Layer> layers) {
    List<Digest> diffIds = layers.stream().map(l -> Digest.parse(l.getDiffId())).toList();
    return new ImageConfig(cached.platform(), cached.created(), cached.author(), cached.config(), diffIds,
        cached.history());
  }

  /** Stores what instruction {@code index} of the stage produced under its cache key, when the task gives one. */
  private void recordCache(StageTask task, int index, Layer layer, ImageConfig image) throws IOException {
    if (index < 0 || index >= task.getInstructionsCount()) {
      return;
    }
    String key = task.getInstructions(index).getCacheKey();
    if (key.isEmpty()) {
      return;
    }
    CacheRecord.Builder record = CacheRecord.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setCacheKey(key)
        .setConfigJson(com.google.protobuf.ByteString.copyFrom(ImageJson.writeConfig(image)))
        .setCreatedMs(System.currentTimeMillis());
    if (layer != null) {
      record.setLayer(layer);
    }
    store.putRecord(key, record.build().toByteArray());
  }

  private static ImageConfig baseConfig(StageTask task) {
    if (!task.getBase().getConfigJson().isEmpty()) {
      return ImageJson.readConfig(task.getBase().getConfigJson().toByteArray());
    }
    return ImageConfig.scratch(taskPlatform(task));
  }

  private static dev.stagefarm.dockerfile.graph.Platform frontendPlatform(Platform platform) {
    return new dev.stagefarm.dockerfile.graph.Platform(platform.os(), platform.architecture(), platform.variant());
  }

  /** The platform the task builds for; linux/amd64 when the task names none. */
  private static Platform taskPlatform(StageTask task) {
    return task.hasPlatform() && !task.getPlatform().getArchitecture().isEmpty()
        ? new Platform(task.getPlatform().getOs(), task.getPlatform().getArchitecture(), task.getPlatform().getVariant())
        : Platform.LINUX_AMD64;
  }

  private static HistoryEntry history(Instruction instruction, Instant epoch, boolean emptyLayer) {
    String createdBy = instruction.original() + (emptyLayer ? "" : " # buildkit");
    return HistoryEntry.of(epoch, createdBy, emptyLayer);
  }

  private static Instant sourceDateEpoch(StageTask task) {
    String value = task.getBuildArgsOrDefault("SOURCE_DATE_EPOCH", "");
    if (value.isEmpty()) {
      return null;
    }
    try {
      return Instant.ofEpochSecond(Long.parseLong(value.strip()));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
