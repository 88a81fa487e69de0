package dev.stagefarm.coordinator.plan;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.oci.Platform;

/**
 * Pins an image reference to a digest and makes its layers available in the content store, so
 * workers never talk to a registry.
 */
@FunctionalInterface
public interface BaseImageResolver {
  /**
   * @throws PlanningException with a message for the user (unknown image, registry unreachable)
   */
  ResolvedImage resolve(String reference, Platform platform) throws PlanningException;

  /**
   * Resolves with the build's client's registry credentials (by registry); a resolver that talks
   * to no registry ignores them.
   */
  default ResolvedImage resolve(String reference, Platform platform,
      java.util.Map<String, dev.stagefarm.oci.registry.RegistryCredentials> credentials) throws PlanningException {
    return resolve(reference, platform);
  }

  /**
   * @param pinnedReference e.g. {@code docker.io/library/busybox@sha256:…}
   * @param manifestDigest {@code sha256:<hex>} of the platform's image manifest
   * @param image its layers (stored) and config, origin = the pinned reference
   */
  record ResolvedImage(String pinnedReference, String manifestDigest, StageResult image) {}
}
