package dev.stagefarm.coordinator.store;

import com.google.protobuf.ByteString;
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
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.Layer;
import java.io.IOException;
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
  public ResolvedImage resolve(String reference, String platform) throws PlanningException {
    ImageReference ref;
    try {
      ref = ImageReference.parse(reference);
    } catch (IllegalArgumentException e) {
      throw new PlanningException("invalid image reference \"" + reference + "\": " + e.getMessage(), e);
    }
    try {
      BaseImageFetcher.FetchedImage fetched = fetcher.fetch(ref, Platform.parse(platform));
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
      ImageState.Builder state =
          ImageState.newBuilder().setConfigJson(ByteString.copyFrom(configJson)).setOrigin(pinned);
      for (int i = 0; i < layers.size(); i++) {
        Descriptor layer = layers.get(i);
        state.addLayers(
            Layer.newBuilder()
                .setBlob(
                    dev.stagefarm.proto.v1.Descriptor.newBuilder()
                        .setMediaType(layer.mediaType())
                        .setDigest(layer.digest().toString())
                        .setSize(layer.size()))
                .setDiffId(diffIds.get(i).toString()));
      }
      return new ResolvedImage(pinned, fetched.manifestDigest().toString(), state.build());
    } catch (IOException e) {
      throw new PlanningException("pulling base image " + reference + " failed: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new PlanningException("pulling base image " + reference + " failed: " + e.getMessage(), e);
    }
  }
}
