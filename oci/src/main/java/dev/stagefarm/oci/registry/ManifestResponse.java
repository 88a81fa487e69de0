package dev.stagefarm.oci.registry;

import dev.stagefarm.oci.Digest;

/** A manifest or index as a registry served it: its exact bytes, their digest and the media type. */
public record ManifestResponse(Digest digest, String mediaType, byte[] bytes) {
}
