package dev.stagefarm.coordinator.store;

import dev.stagefarm.coordinator.port.ContentStore;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import java.io.IOException;
import java.io.InputStream;
import java.util.OptionalLong;

/** The {@link ContentStore} port on the farm's S3 bucket. */
public final class S3ContentStore implements ContentStore {
  private final BlobStore store;

  public S3ContentStore(BlobStore store) {
    this.store = store;
  }

  @Override
  public boolean contains(Namespace namespace, Digest digest) throws IOException {
    return store.exists(namespace, digest);
  }

  @Override
  public void put(Namespace namespace, Digest digest, long size, InputStream content) throws IOException {
    store.put(namespace, digest, size, content);
  }

  @Override
  public Digest putBytes(Namespace namespace, byte[] content) throws IOException {
    return store.putBytes(namespace, content).digest();
  }

  @Override
  public OptionalLong size(Namespace namespace, Digest digest) throws IOException {
    return store.size(namespace, digest);
  }

  @Override
  public InputStream open(Namespace namespace, Digest digest) throws IOException {
    return store.open(namespace, digest);
  }

  @Override
  public byte[] read(Namespace namespace, Digest digest) throws IOException {
    return store.readAllBytes(namespace, digest);
  }
}
