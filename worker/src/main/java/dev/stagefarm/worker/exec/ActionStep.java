package dev.stagefarm.worker.exec;

import dev.stagefarm.program.Action;
import dev.stagefarm.worker.StageProgress;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.layers.Trees;
import dev.stagefarm.worker.layers.XattrIndex;
import dev.stagefarm.worker.store.LayerRef;
import dev.stagefarm.worker.trace.WorkerSpans;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes one op's action on a fresh upper dir over the stage's filesystem, then turns a
 * non-empty upper dir into a layer in the store; it becomes the next op's top lower dir. An
 * unchanged filesystem gives no layer, as in BuildKit. A RUN (and an ADD that may unpack an
 * archive) sees the filesystem through an overlay mount; COPY, ADD of files and WORKDIR write into
 * the upper dir directly, resolving paths against the stack of lower dirs ({@link RootfsFiles}
 * layered): no mount, and the snapshot takes the xattrs the op wrote instead of reading them.
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
      dev.stagefarm.program.BuildSecrets secrets, dev.stagefarm.oci.Compression layerCompression,
      StageUploads uploads) {}

  Optional<LayerRef> execute(int op, Action action, Context stage) throws IOException, UserError, InterruptedException {
    long t0 = System.nanoTime();
    Path upper;
    long t1;
    long t2;
    Optional<XattrIndex> known = Optional.empty();
    try {
      if (writesInPlace(action)) {
        upper = stage.workspace().freshUpper(Integer.toString(op));
        RootfsFiles files = RootfsFiles.layered(upper, stage.workspace().lowerStack());
        t1 = System.nanoTime();
        switch (action) {
          case Action.Copy files2 -> copy.execute(files2, op, files, stage.sources());
          case Action.Mkdir dir -> mkdir.execute(dir, files);
          case Action.Exec run -> throw new IllegalStateException("a RUN needs its container's mount");
        }
        t2 = System.nanoTime();
        known = Optional.of(files.writtenXattrs());
      } else {
        try (StageWorkspace.Layered fs = stage.workspace().mountWritable(Integer.toString(op))) {
          upper = fs.upper;
          t1 = System.nanoTime();
          switch (action) {
            case Action.Exec run -> known = Optional.ofNullable(exec.execute(run, op, fs, stage.sources(),
                stage.progress(), stage.budget(), stage.containerPrefix() + "-" + op, stage.secrets()));
            case Action.Copy files -> copy.execute(files, op, new RootfsFiles(fs.merged), stage.sources());
            case Action.Mkdir dir -> mkdir.execute(dir, new RootfsFiles(fs.merged));
          }
          t2 = System.nanoTime();
        }
      }
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
      io.opentelemetry.api.trace.Span snapshotSpan = WorkerSpans.start("snapshot", op);
      LayerSnapshotter.Snapshot snapshot;
      try {
        snapshot = snapshotter.snapshot(upper, stage.workspace().out.resolve("layer-" + op + ".blob"),
            stage.sourceDateEpoch(), stage.layerCompression(), known);
      } finally {
        snapshotSpan.end();
      }
      layer = Optional.of(snapshot.layer());
      io.opentelemetry.context.Context traced = io.opentelemetry.context.Context.current();
      stage.uploads().submit(() -> WorkerSpans.run(traced, "upload", op,
          () -> snapshotter.upload(snapshot))); // while the next op runs
      stage.workspace().pushLayer(upper, snapshot.layer().diffId(), snapshot.xattrs());
    }
    log.debug("op {} ({}): mount {} ms, execute {} ms, unmount {} ms, snapshot {} ms", op,
        writesInPlace(action) ? "in place" : "mounted", (t1 - t0) / 1_000_000,
        (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000, (System.nanoTime() - t3) / 1_000_000);
    return layer;
  }

  /** COPY, ADD of files and WORKDIR write without a mount; RUN and an ADD that may unpack need one. */
  static boolean writesInPlace(Action action) {
    return switch (action) {
      case Action.Exec run -> false;
      case Action.Copy copy -> CopyAction.writesInPlace(copy);
      case Action.Mkdir dir -> true;
    };
  }
}
