package dev.stagefarm.coordinator.content;

import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import java.util.Objects;

/**
 * One layer of a stage's filesystem, as stored in the content store.
 *
 * @param blob the compressed blob under {@code blobs/sha256/…} (media type, digest, size)
 * @param diffId the digest of the uncompressed tar, as the image config's rootfs lists it
 */
public record LayerRef(Descriptor blob, Digest diffId) {
  public LayerRef {
    Objects.requireNonNull(blob, "blob");
    Objects.requireNonNull(diffId, "diffId");
  }
}
