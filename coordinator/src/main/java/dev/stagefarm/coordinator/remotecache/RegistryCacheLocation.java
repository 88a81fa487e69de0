package dev.stagefarm.coordinator.remotecache;

import dev.stagefarm.oci.BlobSink;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.registry.ImageReference;
import dev.stagefarm.oci.registry.ManifestResponse;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * A cache under a registry reference, through the coordinator's {@link RegistryClient}: the same client, and so
 * the same credentials, as the build's pushes.
 */
final class RegistryCacheLocation implements CacheLocation {
  private final RegistryClient registry;
  private final ImageReference ref;
  private final BlobSink blobs;

  RegistryCacheLocation(RegistryClient registry, ImageReference ref) {
    this.registry = registry;
    this.ref = ref;
    this.blobs = registry.blobSink(ref);
  }

  @Override
  public Optional<Root> readRoot() throws IOException {
    try {
      ManifestResponse response = registry.fetchManifest(ref); // at most 4 MiB, digest checked for a by-digest ref
      return Optional.of(new Root(response.mediaType(), response.bytes()));
    } catch (RegistryException e) {
      if (e.notFound()) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public InputStream openBlob(Digest digest) throws IOException {
    return registry.openBlob(ref, digest);
  }

  @Override
  public void put(Digest digest, long size, InputStream content) throws IOException {
    blobs.put(digest, size, content);
  }

  @Override
  public boolean contains(Digest digest) throws IOException {
    return blobs.contains(digest);
  }

  @Override
  public void writeRoot(Root root) throws IOException {
    registry.pushManifest(ref, root.mediaType(), root.bytes());
  }

  @Override
  public String describe() {
    return ref.toString();
  }
}
