package dev.stagefarm.coordinator.port;

import dev.stagefarm.oci.BlobNotFoundException;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestMismatchException;
import dev.stagefarm.oci.store.Namespace;
import java.io.IOException;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.OptionalLong;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A content store in memory that verifies digests and sizes as the S3 one does. */
public final class InMemoryContentStore implements ContentStore {
  private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();

  @Override
  public boolean contains(Namespace namespace, Digest digest) {
    return blobs.containsKey(namespace.key(digest));
  }

  @Override
  public void put(Namespace namespace, Digest digest, long size, InputStream content) throws IOException {
    byte[] bytes = content.readAllBytes();
    Digest actual = Digest.of(bytes);
    if (!actual.equals(digest) || (size >= 0 && size != bytes.length)) {
      throw new DigestMismatchException(digest, actual, bytes.length + " bytes, promised " + size);
    }
    blobs.put(namespace.key(digest), bytes);
  }

  @Override
  public Digest putBytes(Namespace namespace, byte[] content) {
    Digest digest = Digest.of(content);
    blobs.put(namespace.key(digest), content.clone());
    return digest;
  }

  @Override
  public OptionalLong size(Namespace namespace, Digest digest) {
    byte[] bytes = blobs.get(namespace.key(digest));
    return bytes == null ? OptionalLong.empty() : OptionalLong.of(bytes.length);
  }

  @Override
  public InputStream open(Namespace namespace, Digest digest) throws IOException {
    return new ByteArrayInputStream(read(namespace, digest));
  }

  @Override
  public byte[] read(Namespace namespace, Digest digest) throws IOException {
    byte[] bytes = blobs.get(namespace.key(digest));
    if (bytes == null) {
      throw new BlobNotFoundException(digest, "the in-memory content store");
    }
    return bytes.clone();
  }
}
