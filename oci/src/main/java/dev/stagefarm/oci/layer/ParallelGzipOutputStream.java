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
    /**
     * Writes the members to {@code out} in order, on a thread of its own: what {@code out} does with them (the layer
     * writer hashes the blob and writes its file) runs beside the caller's own work (reading and hashing the tar)
     * instead of after it. One per stream, FIFO, so the order is the chunks' order.
     */
    private final ExecutorService sink = Executors.newSingleThreadExecutor(
            Thread.ofVirtual().name("stagefarm-gzip-sink").factory());
    /** Each chunk's write to {@code out}, oldest first; at most {@link #window} (memory: chunks and members). */
    private final ArrayDeque<Future<?>> pending = new ArrayDeque<>();
    private volatile boolean sinkFailed;
    /**
     * Chunk arrays whose members were written, filled again: a layer allocates at most the window's chunks, not
     * two arrays per MiB (the chunk and its member; 400 MiB of garbage for a 200 MiB layer, and the GC work of a
     * fresh JVM's heap growing to hold it).
     */
    private final java.util.concurrent.ConcurrentLinkedQueue<byte[]> free =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
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
        buffer = freeChunk();
        filled = 0;
        Future<Member> member = POOL.submit(() -> encode(chunk, length, level));
        pending.add(sink.submit(() -> {
            if (sinkFailed) {
                return null; // a member before this one was not written: writing this one would corrupt the stream
            }
            try {
                member.get().writeTo(out);
            } catch (Exception e) {
                sinkFailed = true;
                throw e;
            }
            free.offer(chunk); // written: the next chunk can be filled in it
            return null;
        }));
        wroteMember = true;
        while (pending.size() > window) {
            awaitOldest();
        }
    }

    /** A chunk array whose member was written, or a new one while fewer than the window's are about. */
    private byte[] freeChunk() {
        byte[] chunk = free.poll();
        return chunk != null ? chunk : new byte[CHUNK];
    }

    private void awaitOldest() throws IOException {
        try {
            pending.poll().get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof ExecutionException inner ? inner.getCause() : e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException("gzip compression failed", cause);
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
                awaitOldest();
            }
        } finally {
            sinkFailed |= !pending.isEmpty(); // failing: what is still queued is not written
            pending.forEach(f -> f.cancel(true));
            sink.shutdownNow();
            awaitSink(); // no member write still running when out is closed
            out.close();
        }
    }

    private void awaitSink() {
        try {
            sink.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A chunk's gzip member: its deflated bytes, or (an incompressible chunk) stored blocks written from the chunk
     * itself, with its CRC32 ({@link #writeStored}: the bytes of {@link #storedMember}, without building them).
     */
    private record Member(byte[] deflated, byte[] chunk, int length, int crc) {
        void writeTo(OutputStream out) throws IOException {
            if (deflated != null) {
                out.write(deflated);
            } else {
                writeStored(out, chunk, length, crc);
            }
        }
    }

    private static Member encode(byte[] data, int length, int level) {
        if (length > 0 && !compressible(data, length, level)) {
            return new Member(null, data, length, crc32(data, length));
        }
        return new Member(deflatedMember(data, length, level), null, length, 0);
    }

    private static int crc32(byte[] data, int length) {
        CRC32 crc = new CRC32();
        crc.update(data, 0, length);
        return (int) crc.getValue();
    }

    /** One gzip member: fixed header (mtime 0, OS 255 "unknown", as Go writes), raw deflate, CRC32 and size. */
    static byte[] member(byte[] data, int length, int level) {
        if (!compressible(data, length, level)) {
            return storedMember(data, length);
        }
        return deflatedMember(data, length, level);
    }

    private static byte[] deflatedMember(byte[] data, int length, int level) {
        ByteArrayOutputStream member = new ByteArrayOutputStream(length / 2 + 64);
        member.writeBytes(HEADER);
        Deflater deflater = new Deflater(level, true);
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

    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};
    /**
     * The stored block size zlib writes at level 0 when it deflates into a 64 KiB output buffer, as this class did:
     * 65,536 minus a block's 5-byte header. {@link #storedMember} writes the same blocks, so the bytes (and every
     * gzip blob digest) are what zlib gave.
     */
    static final int STORED_BLOCK = 65_531;

    /**
     * A member of stored deflate blocks written directly into one array of its exact size: byte for byte what zlib
     * writes at level 0 ({@link #STORED_BLOCK}), without zlib's copy, a growing buffer's copies and the final
     * {@code toByteArray}. Only for chunks of at least one byte (an incompressible chunk is never empty).
     */
    static byte[] storedMember(byte[] data, int length) {
        int blocks = (length + STORED_BLOCK - 1) / STORED_BLOCK;
        byte[] member = new byte[HEADER.length + blocks * 5 + length + 8];
        System.arraycopy(HEADER, 0, member, 0, HEADER.length);
        int at = HEADER.length;
        for (int off = 0; off < length; off += STORED_BLOCK) {
            int n = Math.min(STORED_BLOCK, length - off);
            member[at] = (byte) (off + n == length ? 1 : 0); // BFINAL on the last block, BTYPE 00 (stored)
            member[at + 1] = (byte) n;
            member[at + 2] = (byte) (n >>> 8);
            member[at + 3] = (byte) ~n;
            member[at + 4] = (byte) (~n >>> 8);
            System.arraycopy(data, off, member, at + 5, n);
            at += 5 + n;
        }
        CRC32 crc = new CRC32();
        crc.update(data, 0, length);
        putIntLe(member, at, (int) crc.getValue());
        putIntLe(member, at + 4, length);
        return member;
    }

    /**
     * Writes {@link #storedMember}'s bytes for the chunk (a block header, then the block's bytes straight from
     * {@code data}, per {@link #STORED_BLOCK}; the trailer) without building the member in an array of its own.
     */
    static void writeStored(OutputStream out, byte[] data, int length, int crc) throws IOException {
        out.write(HEADER);
        byte[] blockHeader = new byte[5];
        for (int off = 0; off < length; off += STORED_BLOCK) {
            int n = Math.min(STORED_BLOCK, length - off);
            blockHeader[0] = (byte) (off + n == length ? 1 : 0); // BFINAL on the last block, BTYPE 00 (stored)
            blockHeader[1] = (byte) n;
            blockHeader[2] = (byte) (n >>> 8);
            blockHeader[3] = (byte) ~n;
            blockHeader[4] = (byte) (~n >>> 8);
            out.write(blockHeader);
            out.write(data, off, n);
        }
        byte[] trailer = new byte[8];
        putIntLe(trailer, 0, crc);
        putIntLe(trailer, 4, length);
        out.write(trailer);
    }

    private static void putIntLe(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
        b[at + 2] = (byte) (v >>> 16);
        b[at + 3] = (byte) (v >>> 24);
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
