package dev.stagefarm.oci.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.OperatingSystemMXBean;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestingOutputStream;
import dev.stagefarm.testkit.GeneratedContent;
import dev.stagefarm.testkit.S3Fixture;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Moves a 200 MB layer through the embedded S3 server and reports the rates (printed, never asserted: timing depends
 * on the machine). What it asserts is that the bytes survive the round trip. Part size and parallelism can be varied
 * with {@code -Dstagefarm.bench.partMiB=} and {@code -Dstagefarm.bench.parts=}.
 *
 * <p>Besides MB/s it prints the CPU time this JVM (client and server alike) spent per byte: on a shared 2-core
 * machine the rate mostly says how busy the neighbours were, the CPU per byte says what the store itself costs. The
 * layer goes through twice: the first pass pays for JIT compilation of the S3 client, server and hashing paths (a
 * fresh test JVM), the second shows what a long-running farm process pays.
 */
class BlobStoreThroughputTest {

    private static final long SIZE = 200L * 1024 * 1024;
    private static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    @Test
    void twoHundredMegabyteLayerGoesInAndOut() throws IOException {
        GeneratedContent layer = new GeneratedContent(200, SIZE);
        long t0 = System.nanoTime();
        Digest digest = layer.digest();
        long t1 = System.nanoTime();
        System.out.printf("[throughput] 200 MiB: generate+sha256 %.0f MB/s%n", rate(t1 - t0));

        int partMiB = Integer.getInteger("stagefarm.bench.partMiB", StoreOptions.DEFAULT.partSize() >> 20);
        int parts = Integer.getInteger("stagefarm.bench.parts", StoreOptions.DEFAULT.partsInFlight());
        StoreOptions options = StoreOptions.DEFAULT.withPartSize(partMiB << 20, parts);
        try (BlobStore store = BlobStore.connect(S3Fixture.newBucket("throughput"), options)) {
            for (String pass : new String[] {"cold JVM", "warm JVM"}) {
                long cpu0 = OS.getProcessCpuTime();
                long t2 = System.nanoTime();
                StoredBlob stored = store.put(Namespace.BLOBS, digest, SIZE, layer.stream());
                long t3 = System.nanoTime();
                long cpu1 = OS.getProcessCpuTime();
                Digest read;
                try (InputStream in = store.open(digest);
                     DigestingOutputStream out = DigestingOutputStream.discarding()) {
                    in.transferTo(out);
                    read = out.digest();
                }
                long t4 = System.nanoTime();
                long cpu2 = OS.getProcessCpuTime();

                assertThat(stored.uploaded()).isTrue();
                assertThat(read).isEqualTo(digest);
                System.out.printf("[throughput] 200 MiB, parts %d MiB x %d in flight, %s: upload (verified) %.0f MB/s"
                                + " (%.1f ns CPU/byte), download (verified) %.0f MB/s (%.1f ns CPU/byte)%n",
                        partMiB, parts, pass, rate(t3 - t2), perByte(cpu1 - cpu0), rate(t4 - t3),
                        perByte(cpu2 - cpu1));
                // The second pass must upload again, not find the blob by its HEAD.
                store.delete(Namespace.BLOBS, digest);
            }
        }
    }

    /**
     * A 200 MiB layer file as a worker uploads it: the old way (the file's stream, hashed again and sent as a verified
     * multipart upload that the store assembles) and {@link BlobStore#putFile} (one PUT streamed from the file, not
     * hashed again), alternating, two rounds. Prints wall, this JVM's CPU (client and S3Proxy) and its I/O counts
     * from {@code /proc/self/io} (rchar/wchar: bytes through read/write calls; write_bytes: bytes sent to the disk).
     */
    @Test
    void twoHundredMegabyteLayerFileOnePutAgainstVerifiedParts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws IOException {
        GeneratedContent layer = new GeneratedContent(201, SIZE);
        java.nio.file.Path file = dir.resolve("layer.tar");
        try (InputStream in = layer.stream()) {
            java.nio.file.Files.copy(in, file);
        }
        Digest digest = layer.digest();
        try (BlobStore store = BlobStore.connect(S3Fixture.newBucket("layerfile"))) {
            for (int round = 1; round <= 3; round++) {
                for (boolean onePut : new boolean[] {false, true}) {
                    long[] io0 = procSelfIo();
                    long cpu0 = OS.getProcessCpuTime();
                    long t0 = System.nanoTime();
                    StoredBlob stored;
                    if (onePut) {
                        stored = store.putFile(Namespace.BLOBS, digest, SIZE, file);
                    } else {
                        try (InputStream in = java.nio.file.Files.newInputStream(file)) {
                            stored = store.put(Namespace.BLOBS, digest, SIZE, in);
                        }
                    }
                    long t1 = System.nanoTime();
                    long cpu1 = OS.getProcessCpuTime();
                    long[] io1 = procSelfIo();
                    assertThat(stored.uploaded()).isTrue();
                    try (InputStream in = store.open(digest);
                         DigestingOutputStream out = DigestingOutputStream.discarding()) {
                        in.transferTo(out);
                        assertThat(out.digest()).isEqualTo(digest);
                    }
                    System.out.printf("[throughput] 200 MiB layer file, round %d, %s: %.2f s wall, %.2f s CPU,"
                                    + " rchar %d MiB, wchar %d MiB, write_bytes %d MiB%n", round,
                            onePut ? "one PUT from the file" : "verified multipart", (t1 - t0) / 1e9,
                            (cpu1 - cpu0) / 1e9, (io1[0] - io0[0]) >> 20, (io1[1] - io0[1]) >> 20,
                            (io1[2] - io0[2]) >> 20);
                    store.delete(Namespace.BLOBS, digest);
                }
            }
        }
    }

    /** rchar, wchar, write_bytes of this process. */
    private static long[] procSelfIo() throws IOException {
        long[] values = new long[3];
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/io"))) {
            String[] kv = line.split(":\\s*");
            switch (kv[0]) {
                case "rchar" -> values[0] = Long.parseLong(kv[1].trim());
                case "wchar" -> values[1] = Long.parseLong(kv[1].trim());
                case "write_bytes" -> values[2] = Long.parseLong(kv[1].trim());
                default -> { }
            }
        }
        return values;
    }

    private static double rate(long nanos) {
        return SIZE / 1e6 / (nanos / 1e9);
    }

    private static double perByte(long cpuNanos) {
        return (double) cpuNanos / SIZE;
    }
}
