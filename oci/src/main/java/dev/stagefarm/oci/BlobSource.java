package dev.stagefarm.oci;

import java.io.IOException;
import java.io.InputStream;

/** Where blobs can be read from by digest: the S3 content store, an OCI layout directory, a registry. */
@FunctionalInterface
public interface BlobSource {

    /**
     * Opens the blob's bytes; the caller closes the stream.
     *
     * @throws BlobNotFoundException when the source has no such blob
     */
    InputStream open(Digest digest) throws IOException;
}
