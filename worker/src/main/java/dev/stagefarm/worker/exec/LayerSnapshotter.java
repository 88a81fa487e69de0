package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.Compression;
import dev.stagefarm.oci.layer.LayerResult;
import dev.stagefarm.oci.layer.LayerWriter;
import dev.stagefarm.worker.layers.XattrIndex;
import dev.stagefarm.worker.store.ContentStore;
import dev.stagefarm.worker.store.LayerRef;
import java.io.IOException;
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

  /** A layer written to {@code file} (not stored yet: {@link #upload}) and the xattrs of the upper dir it was made from. */
  record Snapshot(LayerRef layer, XattrIndex xattrs, Path file) {}

  /**
   * @param scratch where the tar is staged (a file of that name is created and removed)
   * @param known the upper dir's xattrs when the op knows all of them (it wrote them itself, in an
   *     upper dir that started empty and that nothing else wrote), or a RUN's read after its container
   *     ended; empty: read with {@code getfattr} (the container and overlayfs may have set any)
   */
  Snapshot snapshot(Path upper, Path scratch, Optional<Instant> sourceDateEpoch, Compression compression,
      Optional<XattrIndex> known) throws IOException {
    XattrIndex xattrs = known.isPresent() ? known.get() : XattrIndex.read(upper);
    LayerWriter.Options options = LayerWriter.Options.defaults().withCompression(compression).withOverlayUpper(true);
    if (sourceDateEpoch.isPresent()) {
      options = options.withSourceDateEpoch(sourceDateEpoch.get());
    }
    try {
      LayerResult result = new LayerWriter(options).write(upper, scratch, xattrs.absolute(upper));
      return new Snapshot(new LayerRef(result.blob(), result.diffId()), xattrs, scratch);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(scratch);
      throw e;
    }
  }

  /** Stores the snapshot's blob (an existing blob is not sent again) and removes its file. */
  void upload(Snapshot snapshot) throws IOException {
    try {
      // the digest and size were computed while the file was written: not hashed again
      store.putBlobFile(snapshot.layer().blob().digest(), snapshot.layer().blob().size(), snapshot.file());
    } finally {
      Files.deleteIfExists(snapshot.file());
    }
  }
}
