package dev.stagefarm.oci;

import java.io.IOException;

/** A blob asked for by digest is not in the source asked. */
public final class BlobNotFoundException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Digest digest;

    public BlobNotFoundException(Digest digest, String where) {
        super("blob " + digest + " not found in " + where);
        this.digest = digest;
    }

    public Digest digest() {
        return digest;
    }
}
