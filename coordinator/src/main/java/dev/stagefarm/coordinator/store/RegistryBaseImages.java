package dev.stagefarm.coordinator.store;

import dev.stagefarm.coordinator.content.LayerRef;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.plan.BaseImageResolver;
import dev.stagefarm.coordinator.plan.PlanningException;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.registry.BaseImageFetcher;
import dev.stagefarm.oci.registry.ImageReference;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryCredentials;

/** Pins base images through a registry and copies their blobs into the content store once. */
public final class RegistryBaseImages implements BaseImageResolver {
  private final BaseImageFetcher fetcher;
  private final BlobStore store;
  /** Null: every build pulls with {@link #fetcher}'s registry client as it is. */
  private final RegistryClient registry;
  private final boolean ownCredentialsAsFallback;

  /** Pulls with the fetcher's registry credentials for every build (tests, tools). */
  public RegistryBaseImages(BaseImageFetcher fetcher, BlobStore store) {
    this.fetcher = fetcher;
    this.store = store;
    this.registry = null;
    this.ownCredentialsAsFallback = true;
  }

  /**
   * Pulls with each build's client's credentials.
   *
   * @param ownCredentialsAsFallback whether a registry the client sent no credentials for gets
   *     {@code registry}'s own ({@code registry-credentials-fallback}); else it is anonymous
   */
  public RegistryBaseImages(RegistryClient registry, BlobStore store, boolean ownCredentialsAsFallback) {
    this.fetcher = new BaseImageFetcher(registry, store);
    this.store = store;
    this.registry = registry;
    this.ownCredentialsAsFallback = ownCredentialsAsFallback;
  }

  @Override
  public ResolvedImage resolve(String reference, Platform platform) throws PlanningException {
    return resolve(reference, platform, Map.of());
  }

  @Override
  public ResolvedImage resolve(String reference, Platform platform, Map<String, RegistryCredentials> credentials)
      throws PlanningException {
    if (registry == null) {
      return resolve(fetcher, reference, platform);
    }
    // a client of its own per resolution: no token one build's credentials obtained serves another
    try (RegistryClient build = registry.withSettings(registry.settings().forClient(credentials,
        ownCredentialsAsFallback))) {
      return resolve(new BaseImageFetcher(build, store), reference, platform);
    }
  }

  private ResolvedImage resolve(BaseImageFetcher fetcher, String reference, Platform platform)
      throws PlanningException {
    ImageReference ref;
    try {
      ref = ImageReference.parse(reference);
    } catch (IllegalArgumentException e) {
      throw new PlanningException("invalid image reference \"" + reference + "\": " + e.getMessage(), e);
    }
    try {
      BaseImageFetcher.FetchedImage fetched = fetcher.fetch(ref, platform);
      Descriptor configDescriptor = fetched.manifest().config();
      byte[] configJson = store.readAllBytes(Namespace.BLOBS, configDescriptor.digest());
      ImageConfig config = ImageJson.readConfig(configJson);
      List<Descriptor> layers = fetched.manifest().layers();
      List<Digest> diffIds = config.diffIds();
      if (diffIds.size() != layers.size()) {
        throw new PlanningException(
            "image " + reference + " is malformed: " + layers.size() + " layers but " + diffIds.size() + " diff_ids");
      }
      String pinned = ref.withDigest(fetched.manifestDigest()).toString();
      List<LayerRef> stored = new ArrayList<>();
      for (int i = 0; i < layers.size(); i++) {
        Descriptor layer = layers.get(i);
        // only what identifies the blob: registry annotations are not part of the farm's layers
        stored.add(new LayerRef(new Descriptor(layer.mediaType(), layer.digest(), layer.size()), diffIds.get(i)));
      }
      return new ResolvedImage(pinned, fetched.manifestDigest().toString(), new StageResult(stored, configJson, pinned));
    } catch (IOException e) {
      throw new PlanningException("pulling base image " + reference + " failed: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new PlanningException("pulling base image " + reference + " failed: " + e.getMessage(), e);
    }
  }
}
