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

    private static double rate(long nanos) {
        return SIZE / 1e6 / (nanos / 1e9);
    }

    private static double perByte(long cpuNanos) {
        return (double) cpuNanos / SIZE;
    }
}
