package dev.stagefarm.worker.exec;

import dev.stagefarm.program.Action;
import dev.stagefarm.worker.StageProgress;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.layers.Trees;
import dev.stagefarm.worker.store.LayerRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes one op's action on a fresh overlay upper dir over the stage's filesystem, then turns a
 * non-empty upper dir into a layer in the store; it becomes the next op's top lower dir. An
 * unchanged filesystem gives no layer, as in BuildKit.
 */
final class ActionStep {
  private static final Logger log = LoggerFactory.getLogger(ActionStep.class);

  private final ExecAction exec;
  private final CopyAction copy;
  private final MkdirAction mkdir = new MkdirAction();
  private final LayerSnapshotter snapshotter;

  ActionStep(ExecAction exec, CopyAction copy, LayerSnapshotter snapshotter) {
    this.exec = exec;
    this.copy = copy;
    this.snapshotter = snapshotter;
  }

  /** What one stage's actions share. */
  record Context(StageWorkspace workspace, StageSources sources, StageProgress progress,
      RunOutput.OutputBudget budget, String containerPrefix, Optional<Instant> sourceDateEpoch,
      dev.stagefarm.program.BuildSecrets secrets, dev.stagefarm.oci.Compression layerCompression) {}

  Optional<LayerRef> execute(int op, Action action, Context stage) throws IOException, UserError, InterruptedException {
    long t0 = System.nanoTime();
    Path upper;
    long t1;
    long t2;
    try (StageWorkspace.Layered fs = stage.workspace().mountWritable(Integer.toString(op))) {
      upper = fs.upper;
      t1 = System.nanoTime();
      switch (action) {
        case Action.Exec run -> exec.execute(run, op, fs, stage.sources(), stage.progress(), stage.budget(),
            stage.containerPrefix() + "-" + op, stage.secrets());
        case Action.Copy files -> copy.execute(files, op, fs.merged, stage.sources());
        case Action.Mkdir dir -> mkdir.execute(dir, fs.merged);
      }
      t2 = System.nanoTime();
    } catch (StageDiskFull | java.io.InterruptedIOException e) {
      throw e;
    } catch (IOException e) {
      // checked before the op's fetched context files are removed, which would free the disk again
      Optional<String> disk = stage.workspace().exhaustedDisk(e);
      throw disk.isPresent() ? new StageDiskFull(disk.get(), e) : e;
    } finally {
      stage.sources().endOp(op);
    }
    long t3 = System.nanoTime();
    Optional<LayerRef> layer = Optional.empty();
    if (Trees.isEmpty(upper)) {
      Files.delete(upper);
    } else {
      layer = Optional.of(snapshotter.snapshot(upper, stage.workspace().out.resolve("layer-" + op + ".blob"),
          stage.sourceDateEpoch(), stage.layerCompression()));
      stage.workspace().pushLayer(upper, layer.get().diffId());
    }
    log.debug("op {}: mount {} ms, execute {} ms, unmount {} ms, snapshot {} ms", op, (t1 - t0) / 1_000_000,
        (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000, (System.nanoTime() - t3) / 1_000_000);
    return layer;
  }
}
