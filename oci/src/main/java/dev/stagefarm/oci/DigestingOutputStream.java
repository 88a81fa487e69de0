package dev.stagefarm.oci;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;

/**
 * Passes bytes through to {@code out} while counting them and computing their sha256, so that a blob's size and
 * digest come out of the single pass that writes it. Closing closes {@code out}.
 */
public final class DigestingOutputStream extends FilterOutputStream {

    private final MessageDigest sha256 = Digest.newSha256();
    private long count;

    public DigestingOutputStream(OutputStream out) {
        super(out);
    }

    /** An output stream that only digests and counts (no sink). */
    public static DigestingOutputStream discarding() {
        return new DigestingOutputStream(OutputStream.nullOutputStream());
    }

    @Override
    public void write(int b) throws IOException {
        out.write(b);
        sha256.update((byte) b);
        count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        sha256.update(b, off, len);
        count += len;
    }

    /** Bytes written so far. */
    public long count() {
        return count;
    }

    /** The digest of everything written so far; call once, after the last write. */
    public Digest digest() {
        return Digest.fromBytes(sha256.digest());
    }
}
