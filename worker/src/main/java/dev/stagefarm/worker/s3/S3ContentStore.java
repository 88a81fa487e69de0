package dev.stagefarm.worker.s3;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.worker.store.ContentStore;
import java.io.IOException;
import java.io.InputStream;

/** The content store in the farm's S3 bucket (or, for the one-shot farm, its store directory: any {@link BlobStore}):
 * {@code blobs/sha256/…}, {@code context/sha256/…}, {@code programs/sha256/…} and the sealed {@code secrets/<build id>}. */
public final class S3ContentStore implements ContentStore {
  private final BlobStore store;

  public S3ContentStore(BlobStore store) {
    this.store = store;
  }

  @Override
  public InputStream openBlob(Digest digest) throws IOException {
    return store.open(Namespace.BLOBS, digest);
  }

  @Override
  public InputStream openContext(Digest digest) throws IOException {
    return store.open(Namespace.CONTEXT, digest);
  }

  @Override
  public InputStream openProgram(Digest digest) throws IOException {
    return store.open(Namespace.PROGRAMS, digest);
  }

  @Override
  public java.util.Optional<byte[]> readSealedSecrets(String buildId, int maxBytes) throws IOException {
    return store.getSealed("secrets/" + buildId, maxBytes);
  }

  /** A layer the worker just made: a small one is PUT without a HEAD first (one request, not two). */
  @Override
  public void putBlob(Digest digest, long size, InputStream content) throws IOException {
    store.putFresh(Namespace.BLOBS, digest, size, content);
  }

  /** A layer file the worker wrote and hashed: one PUT streamed from the file (a directory store links it), not hashed again. */
  @Override
  public long putBlobFile(Digest digest, long size, java.nio.file.Path file) throws IOException {
    var stored = store.putFile(Namespace.BLOBS, digest, size, file);
    return stored.uploaded() ? stored.size() : 0;
  }
}
