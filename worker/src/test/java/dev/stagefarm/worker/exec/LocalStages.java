package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.image.BuiltImage;
import dev.stagefarm.oci.layer.LayerExtractor;
import dev.stagefarm.program.BuildSecrets;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.TempDirectories;
import dev.stagefarm.worker.StageFailedException;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.StageProgress;
import dev.stagefarm.worker.TestContext;
import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.runtime.OciBundle;
import dev.stagefarm.worker.runtime.RunLimits;
import dev.stagefarm.worker.runtime.Runc;
import dev.stagefarm.worker.runtime.SandboxNetwork;
import dev.stagefarm.worker.runtime.SandboxPool;
import dev.stagefarm.worker.store.InMemoryCacheRecords;
import dev.stagefarm.worker.store.InMemoryContentStore;
import dev.stagefarm.worker.store.LayerRef;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A stage executor on in-memory stores with real runc and overlayfs (we are root): no Kafka, no
 * S3. Runs programs built with {@link dev.stagefarm.worker.ProgramBuilder} on the busybox image.
 */
final class LocalStages implements AutoCloseable {
  static final String SECRET_ID = "token";
  static final String SECRET_VALUE = "s3cr3t-value-7f3a";

  final InMemoryContentStore store = new InMemoryContentStore();
  final InMemoryCacheRecords records = new InMemoryCacheRecords();
  final Path workDir = TempDirectories.createDeletedAtExit("stagefarm-exec-");
  final StageExecutor executor;
  final StageState busybox;

  LocalStages() throws IOException {
    this(false);
  }

  LocalStages(boolean allowInsecure) throws IOException {
    this(allowInsecure, 2L << 30);
  }

  /** @param addUrlMaxBytes the worker's add-url-max-size */
  LocalStages(boolean allowInsecure, long addUrlMaxBytes) throws IOException {
    this(allowInsecure, addUrlMaxBytes, RunLimits.none(), false);
  }

  /** @param limits the worker's run-memory, run-pids and run-cpus */
  LocalStages(RunLimits limits) throws IOException {
    this(false, 2L << 30, limits, false);
  }

  /** @param allowHostNetwork the worker's allow-host-network; {@code --network=default} is the sandbox network */
  LocalStages(boolean allowInsecure, long addUrlMaxBytes, boolean allowHostNetwork) throws IOException {
    this(allowInsecure, addUrlMaxBytes, RunLimits.none(), allowHostNetwork, 0);
  }

  /**
   * @param readyNetworks sandbox networks kept ready, as a worker keeps one per slot (0: each RUN makes its
   *     own and tears it down before its stage ends); {@link #close()} tears the ready ones down
   */
  static LocalStages withReadyNetworks(int readyNetworks) throws IOException {
    // a factory, not a (boolean, int) constructor: `new LocalStages(false, 1000)` meant a 1000-byte
    // download limit and resolved to 1000 ready networks
    return new LocalStages(false, 2L << 30, RunLimits.none(), false, readyNetworks);
  }

  private LocalStages(boolean allowInsecure, long addUrlMaxBytes, RunLimits limits, boolean allowHostNetwork)
      throws IOException {
    this(allowInsecure, addUrlMaxBytes, limits, allowHostNetwork, 0);
  }

  private LocalStages(boolean allowInsecure, long addUrlMaxBytes, RunLimits limits, boolean allowHostNetwork,
      int readyNetworks) throws IOException {
    StageExecutors.WorkDir layout = new StageExecutors.WorkDir(workDir.resolve("work"));
    LayerCache layers = new LayerCache(layout.layers(), 1L << 30, store);
    RunEnvironment environment = new RunEnvironment(new Runc("runc", layout.runcState()), new OciBundle(1024, limits),
        Files.createDirectories(layout.cacheMounts()),
        new RunNetworks(RunNetworks.Mode.SANDBOX, allowHostNetwork, "",
            new SandboxPool(new SandboxNetwork("slirp4netns"), layout.networks(), readyNetworks).start()), allowInsecure);
    // container ids name cgroups, so they are unique on the host: another test JVM runs RUNs too
    executor = new StageExecutor(store, records, layers, environment, Files.createDirectories(layout.stages()),
        "sf-test-" + ProcessHandle.current().pid(), new StageExecutor.OutputLimits(1 << 20, 1 << 24), addUrlMaxBytes,
        dev.stagefarm.program.FarmKeys.generate());
    BuiltImage image = BusyboxImage.storeIn(store);
    List<LayerRef> base = new ArrayList<>();
    for (int i = 0; i < image.manifest().layers().size(); i++) {
      base.add(new LayerRef(image.manifest().layers().get(i), image.config().diffIds().get(i)));
    }
    busybox = new StageState(base, image.config());
  }

  /** Stops as a worker does: the sandbox networks kept ready are torn down. */
  @Override
  public void close() {
    executor.close();
  }

  TestContext context(Map<String, String> files) {
    return contextBytes(TestContext.utf8(files));
  }

  TestContext contextBytes(Map<String, byte[]> files) {
    return new TestContext(files, store::putContext);
  }

  /** What a stage reported and how it ended. */
  record Outcome(Optional<StageState> result, Optional<StageFailure> failure, Recorder progress) {
    StageState completed() {
      return result.orElseThrow(() -> new AssertionError("stage failed: " + failure.get().message() + "\n"
          + failure.get().outputTail()));
    }

    StageFailure failed() {
      return failure.orElseThrow(() -> new AssertionError("the stage completed"));
    }
  }

  /** The secrets every stage's build sent: {@link #SECRET_ID} (as {@code stagefarm build --secret} would). */
  BuildSecrets secrets = BuildSecrets.of(Map.of(SECRET_ID, SECRET_VALUE.getBytes(java.nio.charset.StandardCharsets.UTF_8)));

  Outcome run(StageProgram program) throws InterruptedException {
    return run(program, busybox, Map.of(), false);
  }

  Outcome run(StageProgram program, StageState base, Map<String, StageState> inputs, boolean reuseCache)
      throws InterruptedException {
    return run(program, base, inputs, reuseCache, dev.stagefarm.oci.Compression.GZIP);
  }

  /** @param layers how the stage's layers are stored (the task's internal_layers: NONE) */
  Outcome run(StageProgram program, StageState base, Map<String, StageState> inputs, boolean reuseCache,
      dev.stagefarm.oci.Compression layers) throws InterruptedException {
    Recorder recorder = new Recorder();
    try {
      StageState result = executor.execute(new StageJob(program, base, inputs, reuseCache, secrets, layers), recorder);
      return new Outcome(Optional.of(result), Optional.empty(), recorder);
    } catch (StageFailedException e) {
      return new Outcome(Optional.empty(), Optional.of(e.failure()), recorder);
    }
  }

  /** {@code base} with the tree at {@code tree} as one more layer (its blob in the store). */
  StageState withLayer(StageState base, Path tree) throws IOException {
    Path blob = Files.createTempFile(workDir, "layer-", ".tar.gz");
    try {
      dev.stagefarm.oci.layer.LayerResult result = new dev.stagefarm.oci.layer.LayerWriter(
          dev.stagefarm.oci.layer.LayerWriter.Options.defaults().withCompression(dev.stagefarm.oci.Compression.GZIP))
          .write(tree, blob);
      try (InputStream in = Files.newInputStream(blob)) {
        store.putBlob(result.blob().digest(), result.blob().size(), in);
      }
      List<LayerRef> layers = new ArrayList<>(base.layers());
      layers.add(new LayerRef(result.blob(), result.diffId()));
      return new StageState(layers, base.config());
    } finally {
      Files.deleteIfExists(blob);
    }
  }

  /** The layers {@code result} added on top of {@code base}. */
  static List<LayerRef> newLayers(StageState base, StageState result) {
    return result.layers().subList(base.layers().size(), result.layers().size());
  }

  /** Applies every layer of {@code state} into a fresh directory (whiteouts delete). */
  Path unpack(StageState state) throws IOException {
    Path root = Files.createTempDirectory(workDir, "unpacked-");
    for (LayerRef layer : state.layers()) {
      try (InputStream in = new ByteArrayInputStream(store.blob(layer.blob().digest()))) {
        new LayerExtractor(LayerExtractor.Mode.APPLY).extract(in, root);
      }
    }
    return root;
  }

  /** The entries (name → bytes of regular files) of one layer. */
  Map<String, byte[]> layerEntries(LayerRef layer) throws IOException {
    Map<String, byte[]> entries = new TreeMap<>();
    try (TarArchiveInputStream tar = new TarArchiveInputStream(dev.stagefarm.oci.layer.LayerCompressions.decompress(
        new ByteArrayInputStream(store.blob(layer.blob().digest()))))) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        entries.put(e.getName(), e.isFile() ? tar.readAllBytes() : new byte[0]);
      }
    }
    return entries;
  }

  /**
   * Each entry of one layer as a line: type, mode, owner, size, mtime (seconds), link target and
   * a digest of a regular file's bytes; {@code mtime ignored} for the names given (directories a
   * COPY creates take the time of the run, as in BuildKit without SOURCE_DATE_EPOCH).
   */
  Map<String, String> layerHeaders(LayerRef layer, java.util.Set<String> mtimeIgnored) throws IOException {
    Map<String, String> entries = new TreeMap<>();
    try (TarArchiveInputStream tar = new TarArchiveInputStream(dev.stagefarm.oci.layer.LayerCompressions.decompress(
        new ByteArrayInputStream(store.blob(layer.blob().digest()))))) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        String mtime = mtimeIgnored.contains(e.getName()) ? "-" : Long.toString(e.getModTime().getTime() / 1000);
        String content = e.isFile() ? dev.stagefarm.oci.Digest.of(tar.readAllBytes()).toString() : "";
        entries.put(e.getName(), e.getMode() + " " + e.getLongUserId() + ":" + e.getLongGroupId() + " " + e.getSize()
            + " " + mtime + " " + (e.isSymbolicLink() ? "-> " + e.getLinkName() : "") + content);
      }
    }
    return entries;
  }

  /** Progress as a stage reported it. */
  static final class Recorder implements StageProgress {
    final List<Boolean> cached = new ArrayList<>();
    final List<Optional<LayerRef>> layers = new ArrayList<>();
    private final StringBuilder log = new StringBuilder();

    @Override
    public void instructionStarted(int index) {}

    @Override
    public synchronized void log(int index, byte[] data, boolean stderr) {
      log.append(new String(data, StandardCharsets.UTF_8));
    }

    @Override
    public synchronized void instructionDone(int index, Optional<LayerRef> layer, boolean wasCached, long startedMs,
        long finishedMs) {
      cached.add(wasCached);
      layers.add(layer);
    }

    synchronized String log() {
      return log.toString();
    }
  }

  static Digest digest(String text) {
    return Digest.of(text);
  }
}
