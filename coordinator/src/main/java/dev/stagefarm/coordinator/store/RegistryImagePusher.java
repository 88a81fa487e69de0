package dev.stagefarm.coordinator.store;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.registry.ImageReference;
import dev.stagefarm.oci.registry.PushOptions;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import dev.stagefarm.oci.registry.RegistryCredentials;

/** Pushes a stored image to the registries its tags name. */
public final class RegistryImagePusher implements StoredImageAssembler.ImagePusher {
  private final RegistryClient registry;
  private final BlobStore store;
  private final boolean ownCredentialsAsFallback;

  /** Pushes with {@code registry}'s own credentials (tests, tools). */
  public RegistryImagePusher(RegistryClient registry, BlobStore store) {
    this(registry, store, true);
  }

  /**
   * @param ownCredentialsAsFallback whether a registry the build's client sent no credentials for
   *     gets {@code registry}'s own ({@code registry-credentials-fallback}); else it is anonymous
   */
  public RegistryImagePusher(RegistryClient registry, BlobStore store, boolean ownCredentialsAsFallback) {
    this.registry = registry;
    this.store = store;
    this.ownCredentialsAsFallback = ownCredentialsAsFallback;
  }

  @Override
  public void push(Digest manifest, List<String> tags) throws IOException {
    push(manifest, tags, Map.of());
  }

  @Override
  public void push(Digest manifest, List<String> tags, Map<String, RegistryCredentials> credentials)
      throws IOException {
    // a client of its own per build: no token one build's credentials obtained serves another
    try (RegistryClient build = registry.withSettings(registry.settings().forClient(credentials,
        ownCredentialsAsFallback))) {
      push(build, manifest, tags);
    }
  }

  private void push(RegistryClient registry, Digest manifest, List<String> tags) throws IOException {
    if (tags.isEmpty()) {
      throw new IOException("--push needs at least one -t NAME to push to");
    }
    byte[] manifestBytes = store.readAllBytes(Namespace.BLOBS, manifest);
    ImageJson.readManifest(manifestBytes); // fail here, not half-way through a push, on a bad manifest
    for (String tag : tags) {
      try {
        registry.pushImage(ImageReference.parse(tag), manifestBytes, store, PushOptions.MONOLITHIC);
      } catch (IOException e) {
        throw new IOException("pushing " + tag + " failed: " + e.getMessage(), e);
      }
    }
  }
}
