package dev.stagefarm.worker.store;

import java.util.Optional;

/**
 * What an op produced, as its cache record keeps it: the layer, or none when the op changed no
 * file. Config and history are not in it: they follow from the program ({@code ConfigFold}).
 */
public record CachedOp(Optional<LayerRef> layer) {
  public static final CachedOp NO_LAYER = new CachedOp(Optional.empty());

  public static CachedOp of(LayerRef layer) {
    return new CachedOp(Optional.of(layer));
  }
}
