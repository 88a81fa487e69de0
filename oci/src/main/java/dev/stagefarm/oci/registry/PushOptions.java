package dev.stagefarm.oci.registry;

import java.util.Optional;

/**
 * How to push a blob.
 *
 * @param chunkSize 0 for a monolithic upload (one PUT); otherwise the size of each PATCH of a chunked upload
 * @param mountFrom a repository on the same registry that may already hold the blob: the registry is asked to link
 *     it (cross-repository mount) instead of receiving the bytes again
 */
public record PushOptions(int chunkSize, Optional<String> mountFrom) {

    public static final PushOptions MONOLITHIC = new PushOptions(0, Optional.empty());

    public PushOptions {
        if (chunkSize < 0) {
            throw new IllegalArgumentException("negative chunk size " + chunkSize);
        }
        mountFrom = mountFrom == null ? Optional.empty() : mountFrom;
    }

    public static PushOptions chunked(int chunkSize) {
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunk size must be positive, got " + chunkSize);
        }
        return new PushOptions(chunkSize, Optional.empty());
    }

    public PushOptions mountingFrom(String repository) {
        return new PushOptions(chunkSize, Optional.of(repository));
    }
}
