package dev.stagefarm.coordinator.port;

import dev.stagefarm.oci.Digest;
import java.util.Set;

/**
 * What live builds reach in the content store, so garbage collection keeps it.
 *
 * @param blobs OCI blobs (layers) used directly: stage results, base images
 * @param imageManifests image manifests: kept with their config and layers
 * @param contextManifests context manifests: kept with the files they list
 */
public record ContentRoots(Set<Digest> blobs, Set<Digest> imageManifests, Set<Digest> contextManifests) {
  public static final ContentRoots NONE = new ContentRoots(Set.of(), Set.of(), Set.of());

  public ContentRoots {
    blobs = Set.copyOf(blobs);
    imageManifests = Set.copyOf(imageManifests);
    contextManifests = Set.copyOf(contextManifests);
  }
}
