package dev.stagefarm.coordinator.remotecache;

import dev.stagefarm.oci.BlobSink;
import dev.stagefarm.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/** Where a cache is read from and written to: a registry reference or an OCI layout directory. */
public interface CacheLocation extends BlobSink {
  /** The cache's root, an OCI index (or image manifest), as stored. */
  record Root(String mediaType, byte[] bytes) {}

  /** The root, or empty when the location has none (a cache never exported there). */
  Optional<Root> readRoot() throws IOException;

  /** A blob's bytes as stored; the caller verifies them against the digest. */
  InputStream openBlob(Digest digest) throws IOException;

  void writeRoot(Root root) throws IOException;

  /** For messages. */
  String describe();
}
