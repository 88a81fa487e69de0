package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.Compression;
import dev.stagefarm.oci.layer.LayerResult;
import dev.stagefarm.oci.layer.LayerWriter;
import dev.stagefarm.worker.store.ContentStore;
import dev.stagefarm.worker.store.LayerRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * Turns an op's overlay upper dir into a reproducible layer (whiteouts and opaque dirs as OCI
 * entries, mtimes clamped to SOURCE_DATE_EPOCH) and stores its blob (an existing blob is not sent again),
 * compressed as the stage's task asks: gzip for layers that may leave the farm, none for those that
 * only feed other stages (tar, sha256 and the upload are then the whole cost).
 */
final class LayerSnapshotter {
  private final ContentStore store;

  LayerSnapshotter(ContentStore store) {
    this.store = store;
  }

  /** @param scratch where the tar is staged (a file of that name is created and removed) */
  LayerRef snapshot(Path upper, Path scratch, Optional<Instant> sourceDateEpoch, Compression compression)
      throws IOException {
    LayerWriter.Options options = LayerWriter.Options.defaults().withCompression(compression).withOverlayUpper(true);
    if (sourceDateEpoch.isPresent()) {
      options = options.withSourceDateEpoch(sourceDateEpoch.get());
    }
    try {
      LayerResult result = new LayerWriter(options).write(upper, scratch);
      try (InputStream in = Files.newInputStream(scratch)) {
        store.putBlob(result.blob().digest(), result.blob().size(), in);
      }
      return new LayerRef(result.blob(), result.diffId());
    } finally {
      Files.deleteIfExists(scratch);
    }
  }
}
