package dev.stagefarm.oci.store;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestMismatchException;
import dev.stagefarm.oci.DigestingInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Passes a blob's bytes through and, when the stream ends, checks they are the bytes the digest names: a reader
 * that consumes a blob to its end never silently gets corrupt content. A reader that stops early gets no check.
 */
public final class VerifyingInputStream extends FilterInputStream {

    private final DigestingInputStream digesting;
    private final Digest expected;
    private final long expectedSize;
    private final String source;
    private boolean verified;

    /**
     * @param expectedSize the size the blob should have, or -1 when unknown
     * @param source how an error names where the bytes came from
     */
    public VerifyingInputStream(InputStream in, Digest expected, long expectedSize, String source) {
        super(new DigestingInputStream(in));
        this.digesting = (DigestingInputStream) this.in;
        this.expected = expected;
        this.expectedSize = expectedSize;
        this.source = source;
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b < 0) {
            verifyOnce();
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n < 0) {
            verifyOnce();
        }
        return n;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void verifyOnce() throws IOException {
        if (verified) {
            return;
        }
        verified = true;
        Digest actual = digesting.digest();
        if (expectedSize >= 0 && digesting.count() != expectedSize) {
            throw new DigestMismatchException(expected, actual,
                    source + " gave " + digesting.count() + " bytes, expected " + expectedSize);
        }
        if (!actual.equals(expected)) {
            throw new DigestMismatchException(expected, actual, "corrupt content from " + source);
        }
    }
}
