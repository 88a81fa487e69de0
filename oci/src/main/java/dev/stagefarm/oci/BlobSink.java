package dev.stagefarm.oci;

import java.io.IOException;
import java.io.InputStream;

/** Where blobs can be written to: an OCI layout directory, the S3 content store, a registry push. */
public interface BlobSink {

    /**
     * Stores {@code content}, which the caller promises has this digest and size. Implementations verify the
     * promise (and fail with {@link DigestMismatchException}) and treat a second put of the same digest as a no-op.
     */
    void put(Digest digest, long size, InputStream content) throws IOException;

    /** Whether the blob is already there; lets callers skip producing its bytes. */
    boolean contains(Digest digest) throws IOException;
}
