package dev.stagefarm.oci.layer;

import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;

/**
 * What writing a layer produced: the blob's descriptor (digest and size of the compressed bytes), the diff_id
 * (sha256 of the uncompressed tar, the layer's identity in the image config) and the uncompressed size.
 */
public record LayerResult(Descriptor blob, Digest diffId, long uncompressedSize) {
}
