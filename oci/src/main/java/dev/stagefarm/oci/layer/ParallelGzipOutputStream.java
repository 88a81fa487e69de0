package dev.stagefarm.oci.layer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * gzip on all cores, deterministically: the input is cut at fixed 1 MiB offsets and each chunk becomes a complete
 * gzip member (RFC 1952 allows several; Go's, zlib's, GNU gzip's and our readers concatenate them). The cut points
 * depend only on the byte offsets, never on how callers split their writes or on thread timing, so the same input
 * always gives the same bytes. Deflate is the layer writer's bottleneck; this is what lets it scale with cores.
 *
 * <p>A chunk whose first {@value #PROBE} bytes do not shrink by at least 1/32 at the given level (random data,
 * already-compressed files) is written as stored deflate blocks instead: deflating it would cost ~20 ms of CPU per MB
 * for nothing. The choice depends only on the chunk's bytes, so the output stays deterministic.
 */
final class ParallelGzipOutputStream extends OutputStream {

    static final int CHUNK = 1 << 20;
    static final int PROBE = 64 * 1024;

    /** CPU-bound work: one platform thread per core, shared by all writers in the JVM. */
    private static final ExecutorService POOL = Executors.newFixedThreadPool(
            Math.max(1, Runtime.getRuntime().availableProcessors()), r -> {
                Thread t = new Thread(r, "stagefarm-gzip");
                t.setDaemon(true);
                return t;
            });

    private final OutputStream out;
    private final int level;
    private final int window = 2 * Math.max(1, Runtime.getRuntime().availableProcessors()) + 1;
    private final ArrayDeque<Future<byte[]>> pending = new ArrayDeque<>();
    private byte[] buffer = new byte[CHUNK];
    private int filled;
    private boolean wroteMember;
    private boolean closed;

    ParallelGzipOutputStream(OutputStream out, int level) {
        this.out = out;
        this.level = level;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, CHUNK - filled);
            System.arraycopy(b, off, buffer, filled, n);
            filled += n;
            off += n;
            len -= n;
            if (filled == CHUNK) {
                submit();
            }
        }
    }

    private void submit() throws IOException {
        byte[] chunk = buffer;
        int length = filled;
        buffer = new byte[CHUNK];
        filled = 0;
        pending.add(POOL.submit(() -> member(chunk, length, level)));
        wroteMember = true;
        while (pending.size() > window) {
            writeOldest();
        }
    }

    private void writeOldest() throws IOException {
        try {
            out.write(pending.poll().get());
        } catch (ExecutionException e) {
            throw new IOException("gzip compression failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while compressing a layer");
        }
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (filled > 0 || !wroteMember) {
                submit(); // an empty input still gives one (empty) gzip member
            }
            while (!pending.isEmpty()) {
                writeOldest();
            }
        } finally {
            pending.forEach(f -> f.cancel(true));
            out.close();
        }
    }

    /** One gzip member: fixed header (mtime 0, OS 255 "unknown", as Go writes), raw deflate, CRC32 and size. */
    static byte[] member(byte[] data, int length, int level) {
        ByteArrayOutputStream member = new ByteArrayOutputStream(length / 2 + 64);
        member.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff});
        Deflater deflater = new Deflater(compressible(data, length, level) ? level : Deflater.NO_COMPRESSION, true);
        try {
            deflater.setInput(data, 0, length);
            deflater.finish();
            byte[] out = new byte[64 * 1024];
            while (!deflater.finished()) {
                int n = deflater.deflate(out);
                member.write(out, 0, n);
            }
        } finally {
            deflater.end();
        }
        CRC32 crc = new CRC32();
        crc.update(data, 0, length);
        writeIntLe(member, (int) crc.getValue());
        writeIntLe(member, length);
        return member.toByteArray();
    }

    /** Whether deflating the chunk's first {@value #PROBE} bytes saves at least 1/32 of them. */
    static boolean compressible(byte[] data, int length, int level) {
        int probe = Math.min(length, PROBE);
        if (probe < 4096) {
            return true; // too small to judge, and cheap either way
        }
        Deflater deflater = new Deflater(level, true);
        try {
            deflater.setInput(data, 0, probe);
            deflater.finish();
            byte[] out = new byte[probe];
            int budget = probe - probe / 32;
            int written = 0;
            while (!deflater.finished() && written < budget) {
                written += deflater.deflate(out, 0, out.length);
            }
            return written < budget;
        } finally {
            deflater.end();
        }
    }

    private static void writeIntLe(ByteArrayOutputStream out, int v) {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }
}
