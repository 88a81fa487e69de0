package dev.stagefarm.worker.store;

import dev.stagefarm.oci.Digest;
import java.io.IOException;
import java.io.InputStream;

/**
 * The farm's content-addressed store as a worker uses it: layer blobs in, layer blobs and build
 * context files out. Every IOException is an infrastructure fault (the store is unreachable or
 * lost content), never the build's fault.
 */
public interface ContentStore {

  /**
   * Opens a layer blob; reading it to the end verifies its digest.
   *
   * @throws dev.stagefarm.oci.BlobNotFoundException when the store has no such blob
   */
  InputStream openBlob(Digest digest) throws IOException;

  /**
   * Opens a build-context file by the digest of its contents; reading it to the end verifies it.
   *
   * @throws dev.stagefarm.oci.BlobNotFoundException when the store has no such file
   */
  InputStream openContext(Digest digest) throws IOException;

  /**
   * Opens a stage program stored apart from its task (too large for the record); reading it to the
   * end verifies it.
   *
   * @throws dev.stagefarm.oci.BlobNotFoundException when the store has no such program
   */
  InputStream openProgram(Digest digest) throws IOException;

  /**
   * The sealed secrets of a build ({@code secrets/<build id>}, docs/protocol.md "Build secrets"), at
   * most {@code maxBytes}; empty when there are none (the build ended and the coordinator removed them).
   */
  java.util.Optional<byte[]> readSealedSecrets(String buildId, int maxBytes) throws IOException;

  /** Stores a layer blob of this digest and size (content-addressed: storing one that is there already changes nothing). */
  void putBlob(Digest digest, long size, InputStream content) throws IOException;

  /**
   * Stores a layer blob from a file this worker wrote, whose digest and size it computed while
   * writing it: the store may trust them instead of hashing the file again. Returns the bytes sent
   * (0 when the store had the blob).
   */
  default long putBlobFile(Digest digest, long size, java.nio.file.Path file) throws IOException {
    try (InputStream in = java.nio.file.Files.newInputStream(file)) {
      putBlob(digest, size, in);
    }
    return size;
  }
}
