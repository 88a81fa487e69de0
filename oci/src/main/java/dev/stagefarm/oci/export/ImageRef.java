package dev.stagefarm.oci.export;

import java.util.Objects;

/**
 * The name an exported image is given, e.g. {@code stagefarm/demo:1.0} (repository + tag; the tag defaults to
 * {@code latest}). Kept deliberately simple: exports only need to print it.
 */
public record ImageRef(String repository, String tag) {

    public ImageRef {
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(tag, "tag");
        if (repository.isEmpty() || repository.contains("@")) {
            throw new IllegalArgumentException("invalid image name '" + repository + "' for export");
        }
    }

    /** Parses {@code repo[:tag]}; a colon before the last slash is a registry port, not a tag. */
    public static ImageRef parse(String text) {
        int slash = text.lastIndexOf('/');
        int colon = text.lastIndexOf(':');
        if (colon > slash) {
            return new ImageRef(text.substring(0, colon), text.substring(colon + 1));
        }
        return new ImageRef(text, "latest");
    }

    @Override
    public String toString() {
        return repository + ":" + tag;
    }
}
