package dev.stagefarm.oci.store;

import dev.stagefarm.oci.Digest;

/** The content-addressed key spaces of the store's bucket (DESIGN.md §5). */
public enum Namespace {
    /** OCI blobs: layers, configs, manifests. */
    BLOBS("blobs/sha256/"),
    /** Build-context file contents and context manifests. */
    CONTEXT("context/sha256/"),
    /** Serialized stage programs too large to travel inside a Kafka task record. */
    PROGRAMS("programs/sha256/");

    private final String prefix;

    Namespace(String prefix) {
        this.prefix = prefix;
    }

    /** The key prefix, ending in '/'. */
    public String prefix() {
        return prefix;
    }

    /** The object key for a digest, e.g. {@code blobs/sha256/<hex>}. */
    public String key(Digest digest) {
        return prefix + digest.hex();
    }
}
