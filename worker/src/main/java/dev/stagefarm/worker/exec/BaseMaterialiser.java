package dev.stagefarm.worker.exec;

import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.store.LayerRef;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Stacks a stage's base layers in its workspace, extracting the ones the layer cache lacks in parallel. */
final class BaseMaterialiser {
  private final LayerCache layers;

  BaseMaterialiser(LayerCache layers) {
    this.layers = layers;
  }

  /** Every lease lands in the workspace (in layer order) so it is released with it, also when one layer fails. */
  void materialise(List<LayerRef> base, StageWorkspace workspace) throws IOException, InterruptedException {
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
