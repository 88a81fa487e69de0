package dev.stagefarm.testkit;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestingOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Incompressible test content of any size that is never held in memory: byte {@code p} of content {@code seed} is a
 * fixed function of (seed, p), so a test can stream hundreds of megabytes, and later check any range of what came
 * back, without keeping a copy.
 */
public record GeneratedContent(long seed, long size) {

    private static final VarHandle LITTLE_ENDIAN_LONGS =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    public GeneratedContent {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
    }

    /** A fresh stream over the whole content. */
    public InputStream stream() {
        return new Stream();
    }

    /** The bytes at {@code [offset, offset + length)}. */
    public byte[] bytes(long offset, int length) {
        if (offset < 0 || offset + length > size) {
            throw new IndexOutOfBoundsException("range " + offset + "+" + length + " outside " + size + " bytes");
        }
        byte[] out = new byte[length];
        fill(offset, out, 0, length);
        return out;
    }

    /** The sha256 of the whole content (one pass over it). */
    public Digest digest() {
        try (DigestingOutputStream out = DigestingOutputStream.discarding(); InputStream in = stream()) {
            in.transferTo(out);
            return out.digest();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void fill(long position, byte[] b, int off, int len) {
        int i = 0;
        // Unaligned head and tail byte by byte; whole 8-byte words in between at once.
        while (i < len && ((position + i) & 7) != 0) {
            b[off + i] = byteAt(position + i);
            i++;
        }
        while (len - i >= 8) {
            LITTLE_ENDIAN_LONGS.set(b, off + i, word((position + i) >>> 3));
            i += 8;
        }
        while (i < len) {
            b[off + i] = byteAt(position + i);
            i++;
        }
    }

    private byte byteAt(long p) {
        return (byte) (word(p >>> 3) >>> ((p & 7) * 8));
    }

    private long word(long index) {
        return mix(seed ^ (index * 0x9E3779B97F4A7C15L));
    }

    private static long mix(long z) {
        // splitmix64's finaliser: every input bit affects every output bit.
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private final class Stream extends InputStream {
        private long position;

        @Override
        public int read() {
            if (position >= size) {
                return -1;
            }
            return byteAt(position++) & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (position >= size) {
                return -1;
            }
            int n = (int) Math.min(len, size - position);
            fill(position, b, off, n);
            position += n;
            return n;
        }
    }
}
