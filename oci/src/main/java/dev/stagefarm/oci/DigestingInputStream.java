package dev.stagefarm.oci;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * Counts and sha256-digests the bytes read through it. {@link #digest()} covers exactly the bytes the caller read;
 * {@link #verify(Digest, long)} drains the rest first and checks the content is what a descriptor promised.
 * mark/reset are not supported (they would double-count).
 */
public final class DigestingInputStream extends FilterInputStream {

    private final MessageDigest sha256 = Digest.newSha256();
    private long count;

    public DigestingInputStream(InputStream in) {
        super(in);
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            sha256.update((byte) b);
            count++;
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            sha256.update(b, off, n);
            count += n;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // Skipped bytes must still be digested.
        byte[] buffer = new byte[8192];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public synchronized void mark(int readlimit) {
        // not supported
    }

    @Override
    public synchronized void reset() throws IOException {
        throw new IOException("mark/reset not supported by DigestingInputStream");
    }

    /** Bytes read so far. */
    public long count() {
        return count;
    }

    /** The digest of the bytes read so far; call once, after the last read. */
    public Digest digest() {
        return Digest.fromBytes(sha256.digest());
    }

    /**
     * Reads to the end, then checks size and digest.
     *
     * @param expectedSize the promised size, or -1 when unknown
     * @throws DigestMismatchException naming both digests when the content is not what was promised
     */
    public void verify(Digest expected, long expectedSize) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        while (read(buffer, 0, buffer.length) >= 0) {
            // drain: read() digests what passes
        }
        Digest actual = digest();
        if (expectedSize >= 0 && count != expectedSize) {
            throw new DigestMismatchException(expected, actual, "size " + count + " != expected " + expectedSize);
        }
        if (!actual.equals(expected)) {
            throw new DigestMismatchException(expected, actual, "content digest differs");
        }
    }
}
