package dev.stagefarm.oci.image;

import dev.stagefarm.oci.Descriptor;

/** An image whose manifest, config and layers are stored as blobs: the manifest's descriptor names it. */
public record BuiltImage(Descriptor manifestDescriptor, ImageManifest manifest, ImageConfig config) {
}
