package dev.stagefarm.oci.layer;

import dev.stagefarm.oci.Compression;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Manual benchmark (not a test: tests never assert times). Builds a ~200 MB tree of mixed files — half text-like,
 * half incompressible — and times the layer writer per compression. Run with the test classpath:
 * {@code java -cp … dev.stagefarm.oci.layer.LayerWriterThroughput [dir]}.
 */
public final class LayerWriterThroughput {

    private LayerWriterThroughput() {
    }

    public static void main(String[] args) throws IOException {
        Path root = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("layer-bench");
        if (!Files.exists(root.resolve("done"))) {
            Random random = new Random(42);
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < 1000; i++) {
                text.append("line ").append(i).append(": the quick brown fox ").append(random.nextInt()).append('\n');
            }
            byte[] textBytes = text.toString().getBytes(StandardCharsets.UTF_8); // ~45 KB
            for (int i = 0; i < 2200; i++) {
                Path f = root.resolve("text/d" + (i % 50) + "/f" + i + ".txt");
                Files.createDirectories(f.getParent());
                Files.write(f, textBytes);
            }
            byte[] blob = new byte[1 << 20];
            for (int i = 0; i < 100; i++) {
                random.nextBytes(blob);
                Path f = root.resolve("bin/d" + (i % 10) + "/b" + i);
                Files.createDirectories(f.getParent());
                Files.write(f, blob);
            }
            Files.writeString(root.resolve("done"), "");
        }
        for (int round = 0; round < 2; round++) {
            for (Compression c : Compression.values()) {
                LayerWriter writer = new LayerWriter(LayerWriter.Options.defaults().withCompression(c));
                // CPU time of the process as well as wall time: on a shared, loaded machine wall time mostly
                // measures the other tenants (gzip runs on a pool, so thread CPU time would undercount)
                com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
                long cpuStart = os.getProcessCpuTime();
                long start = System.nanoTime();
                LayerResult r = writer.write(root, OutputStream.nullOutputStream());
                double seconds = (System.nanoTime() - start) / 1e9;
                double cpuSeconds = (os.getProcessCpuTime() - cpuStart) / 1e9;
                System.out.printf("%-5s tar %6.1f MB -> blob %6.1f MB: wall %5.2f s = %6.1f MB/s, "
                                + "cpu %5.2f s = %6.1f MB/s per CPU-second (uncompressed)%n", c,
                        r.uncompressedSize() / 1e6, r.blob().size() / 1e6, seconds,
                        r.uncompressedSize() / 1e6 / seconds, cpuSeconds, r.uncompressedSize() / 1e6 / cpuSeconds);
            }
        }
        // extraction of the gzip layer (overlay-lower mode), from a file
        Path layer = Files.createTempFile("bench-layer", ".tar.gz");
        Path target = Files.createTempDirectory("bench-extract");
        try {
            new LayerWriter(LayerWriter.Options.defaults()).write(root, layer);
            long start = System.nanoTime();
            LayerExtractor.Result r;
            try (java.io.InputStream in = Files.newInputStream(layer)) {
                r = new LayerExtractor(LayerExtractor.Mode.OVERLAY_LOWER).extract(in, target);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("extract gzip: %6.1f MB in %5.2f s = %6.1f MB/s (uncompressed), %d entries%n",
                    r.uncompressedSize() / 1e6, seconds, r.uncompressedSize() / 1e6 / seconds, r.entries());
        } finally {
            Files.deleteIfExists(layer);
            LayerExtractor.deleteRecursively(target);
        }
    }
}
