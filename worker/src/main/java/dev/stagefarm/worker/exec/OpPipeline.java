package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.CacheKeys;
import dev.stagefarm.program.ConfigFold;
import dev.stagefarm.program.Op;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.worker.StageFailedException;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.store.CachedOp;
import dev.stagefarm.worker.store.LayerRef;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A stage's ops in order, on a materialised base: per op its cache key, then the cache's record
 * of it or its action executed (and recorded), then the config folded. Failures are classified
 * here, where the op is known: a {@link UserError} fails the stage for good; an IOException is an
 * infrastructure fault another attempt may not have.
 */
final class OpPipeline {
  private final OpCache cache;
  private final ActionStep actions;

  OpPipeline(OpCache cache, ActionStep actions) {
    this.cache = cache;
    this.actions = actions;
  }

  StageState run(StageJob job, ActionStep.Context stage) throws StageFailedException, InterruptedException {
    StageProgram program = job.program();
    CacheKey key = program.rootKey();
    ImageConfig config = ConfigFold.start(job.base().config());
    List<LayerRef> layers = new ArrayList<>(job.base().layers());
    for (int i = 0; i < program.ops().size(); i++) {
      Op op = program.ops().get(i);
      stage.progress().instructionStarted(i);
      long started = System.currentTimeMillis();
      key = CacheKeys.next(key, op, program.inputs());
      Optional<LayerRef> layer;
      boolean cached;
      try {
        Optional<CachedOp> hit = job.reuseCachedOps() ? cache.take(key, stage.workspace()) : Optional.empty();
        cached = hit.isPresent();
        if (cached) {
          layer = hit.get().layer();
        } else {
          layer = op.action().isPresent() ? actions.execute(i, op.action().get(), stage) : Optional.empty();
          CacheKey recorded = key;
          CachedOp result = new CachedOp(layer);
          stage.uploads().submit(() -> cache.record(recorded, result)); // after the op's blob is stored
        }
      } catch (UserError e) {
        throw new StageFailedException(new StageFailure(i, op.source().line(), e.exitCode(), e.getMessage(),
            e.outputTail(), false), e);
      } catch (InterruptedIOException e) {
        throw new InterruptedException("stage cancelled during op " + i);
      } catch (StageDiskFull e) {
        throw new StageFailedException(new StageFailure(i, op.source().line(), -1, describe(op)
            + " failed: the stage used up its disk, the worker's limit " + e.setting + " (" + e.getMessage() + ")",
            "", false), e);
      } catch (IOException e) {
        throw new StageFailedException(StageFailure.infrastructure(i, op.source().line(),
            describe(op) + ": worker I/O failed: " + e.getMessage()), e);
      }
      layer.ifPresent(layers::add);
      config = ConfigFold.apply(config, op, layer.map(LayerRef::diffId), program.sourceDateEpoch());
      stage.progress().instructionDone(i, layer, cached, started, System.currentTimeMillis());
    }
    return new StageState(layers, config);
  }

  private static String describe(Op op) {
    return op.source().keyword().isEmpty() ? "op" : op.source().keyword();
  }
}
