package dev.stagefarm.oci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;

/** Where blobs can be read from by digest: the S3 content store, an OCI layout directory, a registry. */
@FunctionalInterface
public interface BlobSource {

    /**
     * Opens the blob's bytes; the caller closes the stream.
     *
     * @throws BlobNotFoundException when the source has no such blob
     */
    InputStream open(Digest digest) throws IOException;

    /**
     * Whether every stream this source opens checks itself: read to its end, it fails with a {@link
     * DigestMismatchException} unless its bytes are the digest's (a {@code BlobStore}'s). A reader that reads such
     * a stream to its end need not hash the bytes again (a 200 MiB layer's export hashed it twice).
     */
    default boolean verifiesAtEnd() {
        return false;
    }

    /**
     * The blob as a file the kernel can copy from, or null when this source has none (the default: read it with
     * {@link #open}). The channel's bytes are <b>not verified</b>: a reader hashes what it copied and fails unless it
     * is the digest's (ArchiveWriter does, on what it wrote). The caller closes the channel.
     */
    default FileChannel openFile(Digest digest) throws IOException {
        return null;
    }
}
