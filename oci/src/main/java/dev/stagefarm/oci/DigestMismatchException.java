package dev.stagefarm.oci;

import java.io.IOException;

/** Content did not match the digest (or size) it was addressed by. */
public final class DigestMismatchException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Digest expected;
    private final transient Digest actual;

    public DigestMismatchException(Digest expected, Digest actual, String detail) {
        super("content of " + expected + " does not match: got " + actual + " (" + detail + ")");
        this.expected = expected;
        this.actual = actual;
    }

    public Digest expected() {
        return expected;
    }

    public Digest actual() {
        return actual;
    }
}
