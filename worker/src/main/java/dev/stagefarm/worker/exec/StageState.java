package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.worker.store.LayerRef;
import java.util.List;

/** A filesystem (its layers, bottom first) and the image config that goes with it: a base, an input or a result. */
public record StageState(List<LayerRef> layers, ImageConfig config) {
  public StageState {
    layers = List.copyOf(layers);
  }
}
