package dev.stagefarm.oci.layer;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import dev.stagefarm.oci.Compression;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.Deflater;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * The fixed compression settings of our layers (they are part of the blob digest, so they never vary per call),
 * and detection of a layer's compression from its first bytes.
 */
public final class LayerCompressions {

    /**
     * zlib level 1, in 1 MiB gzip members compressed on all cores ({@link ParallelGzipOutputStream}): the layer
     * writer is CPU-bound on deflate. Changing level or chunking changes every gzip blob digest (never a diff_id).
     */
    public static final int GZIP_LEVEL = Deflater.BEST_SPEED;
    public static final int ZSTD_LEVEL = 3;

    private LayerCompressions() {
    }

    /** Wraps {@code out} in the compressor for {@code compression}; closing the result finishes the stream. */
    public static OutputStream compress(Compression compression, OutputStream out) throws IOException {
        return switch (compression) {
            case NONE -> out;
            case GZIP -> new ParallelGzipOutputStream(out, GZIP_LEVEL);
            case ZSTD -> {
                ZstdOutputStream z = new ZstdOutputStream(out, ZSTD_LEVEL);
                z.setChecksum(false);
                yield z;
            }
        };
    }

    /** Sniffs gzip (1f 8b) and zstd (28 b5 2f fd) magic; anything else is taken as a plain tar. */
    public static Compression detect(BufferedInputStream in) throws IOException {
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return Compression.GZIP;
        }
        if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
            return Compression.ZSTD;
        }
        return Compression.NONE;
    }

    /** The decompressed tar stream of a layer blob, whatever its compression. */
    public static InputStream decompress(InputStream blob) throws IOException {
        BufferedInputStream in = blob instanceof BufferedInputStream b ? b : new BufferedInputStream(blob, 64 * 1024);
        return switch (detect(in)) {
            case NONE -> in;
            case GZIP -> GzipCompressorInputStream.builder().setInputStream(in).setDecompressConcatenated(true).get();
            case ZSTD -> new ZstdInputStream(in);
        };
    }
}
