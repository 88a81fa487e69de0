package dev.stagefarm.worker.store;

import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import java.util.Objects;

/**
 * One layer of a filesystem: its compressed blob in the content store and its uncompressed
 * identity (diff_id), which names its extracted form in the layer cache.
 */
public record LayerRef(Descriptor blob, Digest diffId) {
  public LayerRef {
    Objects.requireNonNull(blob, "blob");
    Objects.requireNonNull(diffId, "diffId");
  }
}
