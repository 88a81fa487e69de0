package dev.stagefarm.coordinator.plan;

import dev.stagefarm.proto.v1.ImageState;

/**
 * Pins an image reference to a digest and makes its layers available in the content store, so
 * workers never talk to a registry.
 */
@FunctionalInterface
public interface BaseImageResolver {
  /**
   * @param platform {@code os/arch[/variant]}
   * @throws PlanningException with a message for the user (unknown image, registry unreachable)
   */
  ResolvedImage resolve(String reference, String platform) throws PlanningException;

  /**
   * @param pinnedReference e.g. {@code docker.io/library/busybox@sha256:…}
   * @param manifestDigest {@code sha256:<hex>} of the platform's image manifest
   * @param state its layers (stored) and config, origin = the pinned reference
   */
  record ResolvedImage(String pinnedReference, String manifestDigest, ImageState state) {}
}
