package dev.stagefarm.oci.registry;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.image.ImageManifest;
import java.util.Optional;

/**
 * A reference resolved to one platform's image manifest.
 *
 * @param reference the reference asked for
 * @param indexDigest the digest of the index (manifest list) the manifest was picked from, when the reference named one
 * @param manifest the platform's manifest as served
 * @param parsed the same manifest, parsed
 */
public record ResolvedImage(ImageReference reference, Optional<Digest> indexDigest, ManifestResponse manifest,
                            ImageManifest parsed) {

    /** The digest of the platform-specific manifest: what pins the image. */
    public Digest manifestDigest() {
        return manifest.digest();
    }

    /** The digest the reference resolves to at the top level: the index's when there is one. */
    public Digest topLevelDigest() {
        return indexDigest.orElse(manifest.digest());
    }
}
