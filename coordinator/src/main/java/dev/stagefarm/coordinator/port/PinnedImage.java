package dev.stagefarm.coordinator.port;

import dev.stagefarm.coordinator.content.StageResult;

/**
 * A base image reference as planning pinned it; journaled so a resumed build plans against the
 * same image even when the tag has moved since.
 *
 * @param pinnedReference e.g. {@code docker.io/library/busybox@sha256:…}
 * @param manifestDigest {@code sha256:<hex>} of the platform's image manifest
 * @param image its layers (in the content store) and config
 */
public record PinnedImage(String pinnedReference, String manifestDigest, StageResult image) {}
