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

/** Pins base images through a registry and copies their blobs into the content store once. */
public final class RegistryBaseImages implements BaseImageResolver {
  private final BaseImageFetcher fetcher;
  private final BlobStore store;

  public RegistryBaseImages(BaseImageFetcher fetcher, BlobStore store) {
    this.fetcher = fetcher;
    this.store = store;
  }

  @Override
  public ResolvedImage resolve(String reference, Platform platform) throws PlanningException {
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
