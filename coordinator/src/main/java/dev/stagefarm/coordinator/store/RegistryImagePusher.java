package dev.stagefarm.coordinator.store;

import dev.stagefarm.coordinator.grpc.ImageExporter;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.export.OciArchiveExporter;
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

/** Pushes a stored image, or several platforms' images as one index, to the registries its tags name. */
public final class RegistryImagePusher implements StoredImageAssembler.ImagePusher, ImageExporter.IndexPusher {
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

  /**
   * Pushes each platform's image by digest into each tag's repository, then the OCI image index
   * listing them under the tag: a registry never holds an index whose manifests it lacks.
   */
  @Override
  public String pushIndex(List<String> manifestDigests, List<String> tags) throws IOException {
    if (tags.isEmpty()) {
      throw new IOException("--push needs at least one -t NAME to push to");
    }
    List<Descriptor> manifests = new java.util.ArrayList<>();
    List<byte[]> manifestBytes = new java.util.ArrayList<>();
    for (String text : manifestDigests) {
      Digest digest = Digest.parse(text);
      byte[] bytes = store.readAllBytes(Namespace.BLOBS, digest);
      ImageJson.readManifest(bytes);
      manifests.add(new Descriptor(MediaTypes.OCI_MANIFEST, digest, bytes.length));
      manifestBytes.add(bytes);
    }
    byte[] index = ImageJson.writeIndex(OciArchiveExporter.indexOf(store, manifests));
    Digest indexDigest = null;
    for (String tag : tags) {
      ImageReference ref = ImageReference.parse(tag);
      try {
        for (int i = 0; i < manifests.size(); i++) {
          registry.pushImage(new ImageReference(ref.registry(), ref.repository(), null, manifests.get(i).digest()),
              manifestBytes.get(i), store, PushOptions.MONOLITHIC);
        }
        indexDigest = registry.pushManifest(ref, MediaTypes.OCI_INDEX, index);
      } catch (IOException e) {
        throw new IOException("pushing " + tag + " failed: " + e.getMessage(), e);
      }
    }
    return indexDigest.toString();
  }
}
