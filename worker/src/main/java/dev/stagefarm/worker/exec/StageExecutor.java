package dev.stagefarm.worker.exec;

import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.StageFailedException;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.StageProgress;
import dev.stagefarm.worker.StageRunner;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.runtime.Mounts;
import dev.stagefarm.worker.store.CacheRecords;
import dev.stagefarm.worker.store.ContentStore;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes a stage task: decode its program ({@link StageJobs}) → materialise the base ({@link
 * BaseMaterialiser}) → run the ops ({@link OpPipeline}: cache lookup, or the action on a fresh
 * overlay upper dir, snapshot and upload, record) → hand the stage's layers to the layer cache and
 * report the result. Reads and writes the farm's storage only through the {@link ContentStore} and
 * {@link CacheRecords} ports.
 */
public final class StageExecutor implements StageRunner, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StageExecutor.class);
  private static final AtomicLong SEQUENCE = new AtomicLong();

  /** Per-stage bounds on streamed RUN output. */
  public record OutputLimits(long bytesPerSecond, long maxBytes) {}

  private final ContentStore store;
  private final LayerCache layers;
  private final Path stagesDir;
  private final long stageDiskBytes;
  private final String containerPrefix;
  private final OutputLimits outputLimits;
  private final BaseMaterialiser materialiser;
  private final ContextMaterialiser context;
  private final OpPipeline pipeline;
  private final FarmKeys keys;
  private final RunEnvironment runEnvironment;

  /** @param keys the farm's keys: the build secrets of a task are sealed with a key derived from them */
  StageExecutor(ContentStore store, CacheRecords records, LayerCache layers, RunEnvironment runEnvironment,
      Path stagesDir, String containerPrefix, OutputLimits outputLimits, long addUrlMaxBytes, FarmKeys keys) {
    this.store = store;
    this.keys = keys;
    this.runEnvironment = runEnvironment;
    this.layers = layers;
    this.stagesDir = stagesDir;
    this.stageDiskBytes = runEnvironment.bundles().limits().stageDiskBytes();
    this.containerPrefix = containerPrefix;
    this.outputLimits = outputLimits;
    this.materialiser = new BaseMaterialiser(layers);
    this.context = new ContextMaterialiser(store);
    this.pipeline = new OpPipeline(new OpCache(records, layers),
        new ActionStep(new ExecAction(runEnvironment), new CopyAction(addUrlMaxBytes), new LayerSnapshotter(store)));
  }

  /** Tears down what this worker's RUNs keep ready (their sandbox networks); call after the last stage ended. */
  @Override
  public void close() {
    try {
      runEnvironment.runc().awaitDeletes();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    runEnvironment.networks().close();
  }

  /** Tears down the sandbox networks the stage used and makes their replacements, in the background. */
  @Override
  public void stageReported() {
    runEnvironment.networks().sandbox().catchUp();
  }

  @Override
  public ImageState run(StageTask task, StageProgress progress) throws StageFailedException, InterruptedException {
    StageJob job;
    try {
      job = StageJobs.decode(task, store, keys);
    } catch (UserError e) {
      throw new StageFailedException(StageFailure.build(-1, 0, e.getMessage()), e);
    } catch (InterruptedIOException e) {
      throw new InterruptedException("stage cancelled");
    } catch (IOException e) {
      throw new StageFailedException(StageFailure.infrastructure(-1, 0,
          "reading the stage program or the build's secrets failed: " + e.getMessage()), e);
    }
    return StageJobs.encode(execute(job, progress), job.program());
  }

  /** Executes a decoded stage: its layers (base first) and config. */
  public StageState execute(StageJob job, StageProgress progress) throws StageFailedException, InterruptedException {
    // an on-demand pool makes its namespaces from now on, and none for RUNs of this stage once it has ended
    try (RunNetworks.Prepared ignored = runEnvironment.networks().prepareFor(job.program())) {
      try {
        return executeInWorkspace(job, progress);
      } finally {
        runEnvironment.runc().awaitDeletes(); // the stage's RUN containers are gone when it reports, failed or not
      }
    }
  }

  private StageState executeInWorkspace(StageJob job, StageProgress progress)
      throws StageFailedException, InterruptedException {
    long seq = SEQUENCE.incrementAndGet();
    try (StageWorkspace workspace = new StageWorkspace(stagesDir.resolve(Long.toString(seq, 36)), stageDiskBytes);
        StageUploads uploads = new StageUploads()) { // closed first: its files are in the workspace
      long materialiseStart = System.nanoTime();
      materialiser.materialise(job.base().layers(), workspace);
      log.debug("materialised {} base layers in {} ms", job.base().layers().size(),
          (System.nanoTime() - materialiseStart) / 1_000_000);
      StageSources sources = new StageSources(job, layers, context, workspace);
      ActionStep.Context stage = new ActionStep.Context(workspace, sources, progress,
          new RunOutput.OutputBudget(outputLimits.bytesPerSecond(), outputLimits.maxBytes()),
          containerPrefix + "-" + Long.toString(seq, 36), job.program().sourceDateEpoch(), job.secrets(),
          job.layerCompression(), uploads);
      StageState result = pipeline.run(job, stage);
      try {
        uploads.finish(); // every blob and record stored before the stage reports its result
      } catch (InterruptedIOException e) {
        throw e;
      } catch (IOException e) {
        throw new StageFailedException(StageFailure.infrastructure(-1, 0,
            "storing the stage's layers failed: " + e.getMessage()), e);
      }
      for (Path mount : Mounts.mountPointsUnder(workspace.dir)) {
        Mounts.unmount(mount); // input views may still stack our layers' dirs
      }
      workspace.adoptLayersInto(layers);
      return result;
    } catch (InterruptedIOException e) {
      throw new InterruptedException("stage cancelled");
    } catch (IOException e) {
      throw new StageFailedException(StageFailure.infrastructure(-1, 0,
          "materialising the stage's base failed: " + e.getMessage()), e);
    }
  }
}
