package dev.stagefarm.oci;

import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A stream held to a byte limit, in one of two ways:
 *
 * <ul>
 *   <li>{@link #stoppingAfter}: ends after the limit, as if the stream ended there (a range of a longer stream);</li>
 *   <li>{@link #failingPast}: passes up to the limit and fails as soon as a byte past it arrives, with an error that
 *       names the limit (a peer that sends more than it declared, a file larger than allowed). A stream of exactly
 *       the limit ends normally. It asks its source for at most one byte past the limit, so an endless source is not
 *       read on.</li>
 * </ul>
 *
 * <p>Every way of reading goes through the limit ({@code skip} too); mark/reset are not supported. Not thread-safe,
 * like the streams it wraps. Closing it closes the source.
 */
public final class LimitedInputStream extends InputStream {

    /** What a stream past its limit does: throws. */
    @FunctionalInterface
    private interface Overrun {
        void fail() throws IOException;
    }

    private final InputStream in;
    /** Null: stop at the limit; else how to fail past it. */
    private final Overrun overrun;
    /** Bytes left before the limit; negative once a byte past it arrived (then every read fails). */
    private long remaining;

    private LimitedInputStream(InputStream in, long limit, Overrun overrun) {
        if (limit < 0) {
            throw new IllegalArgumentException("negative limit " + limit);
        }
        this.in = Objects.requireNonNull(in, "in");
        this.remaining = limit;
        this.overrun = overrun;
    }

    /** The first {@code length} bytes of {@code in} (all of it when shorter); its end after them. */
    public static LimitedInputStream stoppingAfter(InputStream in, long length) {
        return new LimitedInputStream(in, length, null);
    }

    /**
     * {@code in}, failing with an {@link IOException} "{@code <what>} has more than {@code <limit>} bytes" when it has
     * more than {@code limit}.
     */
    public static LimitedInputStream failingPast(InputStream in, long limit, String what) {
        Objects.requireNonNull(what, "what");
        return new LimitedInputStream(in, limit, () -> {
            throw new IOException(what + " has more than " + limit + " bytes");
        });
    }

    /**
     * {@code in}, failing with {@code error}'s exception (which should name the limit) when it has more than {@code
     * limit} bytes. For readers that would turn an {@link IOException} of their source into an error of their own (a
     * protobuf parser reports it as a malformed message).
     */
    public static LimitedInputStream failingPast(InputStream in, long limit, Supplier<? extends RuntimeException> error) {
        Objects.requireNonNull(error, "error");
        return new LimitedInputStream(in, limit, () -> {
            throw error.get();
        });
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (remaining < 0) {
            overrun.fail(); // read on after the failure: fails again
        }
        if (len == 0) {
            return 0;
        }
        int asked;
        if (overrun == null) {
            if (remaining == 0) {
                return -1;
            }
            asked = (int) Math.min(len, remaining);
        } else {
            // one byte past the limit tells "more" from "the end" (remaining < len here, so + 1 cannot overflow)
            asked = remaining >= len ? len : (int) remaining + 1;
        }
        int n = in.read(b, off, asked);
        if (n > 0) {
            remaining -= n;
            if (remaining < 0) {
                overrun.fail();
            }
        }
        return n;
    }

    /** Skips at most up to the limit: what lies past it is read (and refused) by the next read. */
    @Override
    public long skip(long n) throws IOException {
        if (remaining < 0) {
            overrun.fail();
        }
        long skipped = in.skip(Math.min(n, remaining));
        if (skipped > 0) {
            remaining -= skipped;
        }
        return Math.max(skipped, 0);
    }

    @Override
    public int available() throws IOException {
        return (int) Math.min(in.available(), Math.max(remaining, 0));
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
