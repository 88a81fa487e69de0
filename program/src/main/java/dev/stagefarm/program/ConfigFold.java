package dev.stagefarm.program;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.image.ImageConfig;
import java.time.Instant;
import java.util.Optional;

/**
 * Applies ops to an image config: the one place the program's config semantics live, used by the
 * worker as it executes and by the coordinator to complete a stage from its cache records.
 */
public final class ConfigFold {
  private ConfigFold() {}

  /**
   * The config a stage starts from: the base's, with its ONBUILD triggers dropped (they run as the
   * stage's first ops and are not inherited) and BuildKit's default PATH when the base sets none.
   */
  public static ImageConfig start(ImageConfig base) {
    throw new UnsupportedOperationException("in progress");
  }

  /**
   * The config after {@code op}: its delta, then its layer (when it produced one) and its history
   * entry ({@code created_by} plus " # buildkit" for a layer, dated {@code sourceDateEpoch}).
   */
  public static ImageConfig apply(ImageConfig config, Op op, Optional<Digest> layerDiffId,
      Optional<Instant> sourceDateEpoch) {
    throw new UnsupportedOperationException("in progress");
  }
}
