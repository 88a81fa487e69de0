package dev.stagefarm.worker.exec;

import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.store.LayerRef;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Stacks a stage's base layers in its workspace, extracting the ones the layer cache lacks in parallel (a base of one
 * layer on the stage's thread).
 */
final class BaseMaterialiser {
  private final LayerCache layers;

  BaseMaterialiser(LayerCache layers) {
    this.layers = layers;
  }

  /** Every lease lands in the workspace (in layer order) so it is released with it, also when one layer fails. */
  void materialise(List<LayerRef> base, StageWorkspace workspace) throws IOException, InterruptedException {
    if (base.size() == 1) {
      // on the stage's own thread: a thread of its own for one layer is one more wait for a carrier, which on a
      // busy 2-core host cost a cold one-shot's stages 0.1-0.4 s each for a layer already extracted (session 13)
      LayerRef layer = base.getFirst();
      workspace.stackLayer(layers.acquire(layer.diffId(), layer.blob().digest()));
      return;
    }
    IOException failure = null;
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<LayerCache.Lease>> leases = new ArrayList<>();
      for (LayerRef layer : base) {
        leases.add(pool.submit(() -> layers.acquire(layer.diffId(), layer.blob().digest())));
      }
      for (Future<LayerCache.Lease> lease : leases) {
        try {
          workspace.stackLayer(lease.get());
        } catch (ExecutionException e) {
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
}
