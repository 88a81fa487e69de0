package dev.stagefarm.coordinator.port;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.store.Namespace;
import java.io.IOException;
import java.io.InputStream;
import java.util.OptionalLong;

/**
 * The content-addressed part of the content store, as the coordinator uses it: build-context
 * uploads and manifests, offloaded programs. Cache records are a separate port ({@link
 * CacheRecords}): they are keyed by cache key, not by content.
 *
 * <p>Failures: {@link dev.stagefarm.oci.DigestMismatchException} when content does not match
 * its digest (nothing is stored), {@link dev.stagefarm.oci.BlobNotFoundException} for a missing
 * blob, any other {@link IOException} when the store could not be reached or failed.
 */
public interface ContentStore {
  boolean contains(Namespace namespace, Digest digest) throws IOException;

  /**
   * Stores content under its digest, verifying it; content already stored is not re-sent.
   *
   * @param size the promised size, or -1 when unknown
   */
  void put(Namespace namespace, Digest digest, long size, InputStream content) throws IOException;

  /** Stores a small blob held in memory; returns its digest. */
  Digest putBytes(Namespace namespace, byte[] content) throws IOException;

  /** The stored size of a blob, or empty when it is not stored. */
  OptionalLong size(Namespace namespace, Digest digest) throws IOException;

  /** Opens a blob for streaming; reading it to the end verifies its digest. */
  InputStream open(Namespace namespace, Digest digest) throws IOException;

  /** Reads a whole small blob, verified against its digest. */
  byte[] read(Namespace namespace, Digest digest) throws IOException;
}
