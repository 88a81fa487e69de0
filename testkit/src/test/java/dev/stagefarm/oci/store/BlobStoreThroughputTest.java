package dev.stagefarm.oci.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestingOutputStream;
import dev.stagefarm.testkit.GeneratedContent;
import dev.stagefarm.testkit.S3Fixture;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * Moves a 200 MB layer through the embedded S3 server and reports the rates (printed, never asserted: timing depends
 * on the machine). What it asserts is that the bytes survive the round trip. Part size and parallelism can be varied
 * with {@code -Dstagefarm.bench.partMiB=} and {@code -Dstagefarm.bench.parts=}.
 */
class BlobStoreThroughputTest {

    private static final long SIZE = 200L * 1024 * 1024;

    @Test
    void twoHundredMegabyteLayerGoesInAndOut() throws IOException {
        GeneratedContent layer = new GeneratedContent(200, SIZE);
        long t0 = System.nanoTime();
        Digest digest = layer.digest();
        long t1 = System.nanoTime();

        int partMiB = Integer.getInteger("stagefarm.bench.partMiB", StoreOptions.DEFAULT.partSize() >> 20);
        int parts = Integer.getInteger("stagefarm.bench.parts", StoreOptions.DEFAULT.partsInFlight());
        StoreOptions options = StoreOptions.DEFAULT.withPartSize(partMiB << 20, parts);
        try (BlobStore store = BlobStore.connect(S3Fixture.newBucket("throughput"), options)) {
            long t2 = System.nanoTime();
            StoredBlob stored = store.put(Namespace.BLOBS, digest, SIZE, layer.stream());
            long t3 = System.nanoTime();
            Digest read;
            try (InputStream in = store.open(digest); DigestingOutputStream out = DigestingOutputStream.discarding()) {
                in.transferTo(out);
                read = out.digest();
            }
            long t4 = System.nanoTime();

            assertThat(stored.uploaded()).isTrue();
            assertThat(read).isEqualTo(digest);
            System.out.printf("[throughput] 200 MiB, parts %d MiB x %d in flight: generate+sha256 %.0f MB/s, "
                            + "upload (verified) %.0f MB/s, download (verified) %.0f MB/s%n",
                    partMiB, parts, rate(t0, t1), rate(t2, t3), rate(t3, t4));
        }
    }

    private static double rate(long fromNanos, long toNanos) {
        return SIZE / 1e6 / ((toNanos - fromNanos) / 1e9);
    }
}
