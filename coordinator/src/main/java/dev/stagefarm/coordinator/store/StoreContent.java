package dev.stagefarm.coordinator.store;

import dev.stagefarm.coordinator.grpc.ContextBlobs;
import dev.stagefarm.coordinator.plan.PlanningStore;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.proto.v1.CacheRecord;
import dev.stagefarm.proto.v1.ContextManifest;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/** The coordinator's view of the content store: context uploads, context manifests, cache records. */
public final class StoreContent implements ContextBlobs, PlanningStore {
  private final BlobStore store;

  public StoreContent(BlobStore store) {
    this.store = store;
  }

  @Override
  public boolean contains(String digest) throws IOException {
    return store.exists(Namespace.CONTEXT, Digest.parse(digest));
  }

  @Override
  public void put(String digest, long size, InputStream content) throws IOException {
    store.put(Namespace.CONTEXT, Digest.parse(digest), size, content);
  }

  @Override
  public ContextManifest contextManifest(String digest) throws IOException {
    return ContextManifest.parseFrom(store.readAllBytes(Namespace.CONTEXT, Digest.parse(digest)));
  }

  @Override
  public Optional<CacheRecord> cacheRecord(String key) throws IOException {
    Optional<byte[]> bytes = store.getRecord(key);
    return bytes.isEmpty() ? Optional.empty() : Optional.of(CacheRecord.parseFrom(bytes.get()));
  }
}
