package dev.stagefarm.oci;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An OCI content descriptor: what a blob is ({@code mediaType}), which bytes ({@code digest}) and how many.
 * Annotations are kept sorted so that descriptors serialise the same way everywhere.
 * {@code urls} is only used by foreign (non-distributable) layers.
 */
public record Descriptor(String mediaType, Digest digest, long size, Map<String, String> annotations,
                         Optional<Platform> platform, List<String> urls) {

    public Descriptor {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size + " for " + digest);
        }
        annotations = annotations == null || annotations.isEmpty()
                ? Map.of() : java.util.Collections.unmodifiableSortedMap(new TreeMap<>(annotations));
        platform = platform == null ? Optional.empty() : platform;
        urls = urls == null ? List.of() : List.copyOf(urls);
    }

    public Descriptor(String mediaType, Digest digest, long size) {
        this(mediaType, digest, size, Map.of(), Optional.empty(), List.of());
    }

    public Descriptor withAnnotations(Map<String, String> newAnnotations) {
        return new Descriptor(mediaType, digest, size, newAnnotations, platform, urls);
    }

    public Descriptor withAnnotation(String key, String value) {
        Map<String, String> copy = new TreeMap<>(annotations);
        copy.put(key, value);
        return withAnnotations(copy);
    }

    public Descriptor withPlatform(Platform newPlatform) {
        return new Descriptor(mediaType, digest, size, annotations, Optional.ofNullable(newPlatform), urls);
    }

    public Descriptor withMediaType(String newMediaType) {
        return new Descriptor(newMediaType, digest, size, annotations, platform, urls);
    }

    @Override
    public String toString() {
        return mediaType + " " + digest + " (" + size + " bytes)";
    }
}
