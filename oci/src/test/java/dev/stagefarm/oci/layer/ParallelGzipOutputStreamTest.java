package dev.stagefarm.oci.layer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParallelGzipOutputStreamTest {

    @TempDir
    Path tmp;

    private static byte[] compress(byte[] data, int writeSize) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ParallelGzipOutputStream gz = new ParallelGzipOutputStream(out, LayerCompressions.GZIP_LEVEL)) {
            for (int off = 0; off < data.length; off += writeSize) {
                gz.write(data, off, Math.min(writeSize, data.length - off));
            }
        }
        return out.toByteArray();
    }

    @Test
    void outputDependsOnlyOnTheBytesNotOnHowTheyWereWritten() throws Exception {
        byte[] data = new byte[3 * ParallelGzipOutputStream.CHUNK + 12345];
        new Random(7).nextBytes(data);
        for (int i = 0; i < data.length / 2; i++) {
            data[i] = (byte) (i % 61); // half compressible
        }
        byte[] a = compress(data, 1);
        byte[] b = compress(data, 8191);
        byte[] c = compress(data, data.length);
        assertThat(b).isEqualTo(a);
        assertThat(c).isEqualTo(a);
        assertThat(a.length).isLessThan(data.length);

        // the JDK's reader, commons-compress (what our extractor uses) and GNU gzip all read the members back
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(a))) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
        try (InputStream in = LayerCompressions.decompress(new ByteArrayInputStream(a))) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
        Path file = tmp.resolve("x.gz");
        Files.write(file, a);
        Process gunzip = new ProcessBuilder("gzip", "-dc", file.toString()).start();
        assertThat(gunzip.getInputStream().readAllBytes()).isEqualTo(data);
        assertThat(gunzip.waitFor()).isZero();
    }

    @Test
    void emptyInputIsAValidEmptyGzip() throws Exception {
        byte[] empty = compress(new byte[0], 1);
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(empty))) {
            assertThat(in.readAllBytes()).isEmpty();
        }
    }

    @Test
    void incompressibleChunksAreStoredNotDeflatedAndStillReadBack() throws Exception {
        byte[] data = new byte[2 * ParallelGzipOutputStream.CHUNK];
        new Random(11).nextBytes(data);
        for (int i = ParallelGzipOutputStream.CHUNK; i < data.length; i++) {
            data[i] = (byte) (i % 61); // second chunk compressible
        }
        assertThat(ParallelGzipOutputStream.compressible(data, ParallelGzipOutputStream.CHUNK,
                LayerCompressions.GZIP_LEVEL)).isFalse();
        byte[] randomOnly = compress(java.util.Arrays.copyOf(data, ParallelGzipOutputStream.CHUNK), 8192);
        // stored blocks: 5 bytes of framing per 64 KiB block, plus the gzip header and trailer
        assertThat(randomOnly.length).isBetween(ParallelGzipOutputStream.CHUNK, ParallelGzipOutputStream.CHUNK + 200);

        byte[] both = compress(data, 8192);
        assertThat(both.length).isLessThan(ParallelGzipOutputStream.CHUNK + 64 * 1024);
        assertThat(compress(data, data.length)).isEqualTo(both);
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(both))) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
        Path file = tmp.resolve("stored.gz");
        Files.write(file, both);
        Process gunzip = new ProcessBuilder("gzip", "-dc", file.toString()).start();
        assertThat(gunzip.getInputStream().readAllBytes()).isEqualTo(data);
        assertThat(gunzip.waitFor()).isZero();
    }

    /** What {@code member} wrote for an incompressible chunk before it wrote stored blocks itself: zlib at level 0. */
    private static byte[] zlibStoredMember(byte[] data, int length) {
        ByteArrayOutputStream member = new ByteArrayOutputStream();
        member.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff});
        java.util.zip.Deflater deflater = new java.util.zip.Deflater(java.util.zip.Deflater.NO_COMPRESSION, true);
        deflater.setInput(data, 0, length);
        deflater.finish();
        byte[] out = new byte[64 * 1024];
        while (!deflater.finished()) {
            member.write(out, 0, deflater.deflate(out));
        }
        deflater.end();
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(data, 0, length);
        java.nio.ByteBuffer trailer = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        member.writeBytes(trailer.putInt((int) crc.getValue()).putInt(length).array());
        return member.toByteArray();
    }

    @Test
    void storedMembersAreByteForByteWhatZlibWroteAtLevelZeroSoNoBlobDigestChanges() {
        byte[] data = new byte[ParallelGzipOutputStream.CHUNK];
        new Random(12).nextBytes(data);
        int block = ParallelGzipOutputStream.STORED_BLOCK;
        for (int length : new int[] {4096, block - 1, block, block + 1, 2 * block, 3 * block + 17, 1_000_000,
                ParallelGzipOutputStream.CHUNK}) {
            assertThat(ParallelGzipOutputStream.storedMember(data, length)).as("%d bytes", length)
                    .isEqualTo(zlibStoredMember(data, length));
        }
        assertThat(ParallelGzipOutputStream.member(data, data.length, LayerCompressions.GZIP_LEVEL))
                .isEqualTo(zlibStoredMember(data, data.length));
    }

    @Test
    void storedBlocksWrittenFromTheChunkAreTheStoredMembersBytes() throws Exception {
        byte[] data = new byte[ParallelGzipOutputStream.CHUNK];
        new Random(14).nextBytes(data);
        int block = ParallelGzipOutputStream.STORED_BLOCK;
        for (int length : new int[] {1, 4096, block - 1, block, block + 1, 3 * block + 17, ParallelGzipOutputStream.CHUNK}) {
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(data, 0, length);
            ByteArrayOutputStream written = new ByteArrayOutputStream();
            ParallelGzipOutputStream.writeStored(written, data, length, (int) crc.getValue());
            assertThat(written.toByteArray()).as("%d bytes", length)
                    .isEqualTo(ParallelGzipOutputStream.storedMember(data, length));
        }
    }

    /**
     * The stream's bytes are each chunk's {@code member}, in order, with chunk arrays filled again once written:
     * random and compressible chunks mixed, more chunks than the window holds, a short last one.
     */
    @Test
    void theStreamIsEachChunksMemberInOrderWhileItsChunkArraysAreReused() throws Exception {
        int chunk = ParallelGzipOutputStream.CHUNK;
        byte[] data = new byte[23 * chunk + 12_345];
        Random random = new Random(15);
        random.nextBytes(data);
        for (int c = 0; c < 23; c += 3) { // every third chunk compressible
            for (int i = c * chunk; i < (c + 1) * chunk; i++) {
                data[i] = (byte) (i % 29);
            }
        }
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (int off = 0; off < data.length; off += chunk) {
            int length = Math.min(chunk, data.length - off);
            expected.writeBytes(ParallelGzipOutputStream.member(java.util.Arrays.copyOfRange(data, off, off + length),
                    length, LayerCompressions.GZIP_LEVEL));
        }
        assertThat(compress(data, 100_000)).isEqualTo(expected.toByteArray());
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(expected.toByteArray()))) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
    }

    @Test
    void aWriteThatFailsDownstreamFailsTheStreamWithItsErrorAndNothingIsWrittenAfterIt() {
        byte[] data = new byte[6 * ParallelGzipOutputStream.CHUNK];
        new Random(13).nextBytes(data);
        java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
        java.io.OutputStream diskFull = new java.io.OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (writes.incrementAndGet() == 2) {
                    throw new IOException("No space left on device");
                }
            }
        };
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
            try (ParallelGzipOutputStream gz = new ParallelGzipOutputStream(diskFull, LayerCompressions.GZIP_LEVEL)) {
                gz.write(data);
            }
        }).isInstanceOf(IOException.class).hasMessageContaining("No space left on device");
        assertThat(writes.get()).isEqualTo(2);
    }
}
