package dev.stagefarm.oci;

/** How a layer's tar stream is encoded in its blob. */
public enum Compression {
    NONE,
    GZIP,
    ZSTD
}
