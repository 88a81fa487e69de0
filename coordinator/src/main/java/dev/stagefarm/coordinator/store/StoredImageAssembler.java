package dev.stagefarm.coordinator.store;

import dev.stagefarm.oci.registry.RegistryCredentials;
import dev.stagefarm.coordinator.ImageAssembler;
import dev.stagefarm.coordinator.content.LayerRef;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.oci.store.StoredBlob;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Stores the target stage's image: its config (with the rootfs diff_ids of its layers) and an
 * OCI manifest, both as blobs; then hands the image to the {@link ImagePusher} when the build
 * asked for a push.
 */
public final class StoredImageAssembler implements ImageAssembler {
  private final BlobStore store;
  private final ImagePusher pusher;

  public StoredImageAssembler(BlobStore store, ImagePusher pusher) {
    this.store = store;
    this.pusher = pusher;
  }

  @Override
  public String assemble(StageResult target, List<String> tags, boolean push) throws Exception {
    return assemble(target, new Request(tags, push, Map.of(), Map.of())).manifestDigest();
  }

  @Override
  public Assembled assemble(StageResult target, Request request) throws Exception {
    ImageConfig config = ImageJson.readConfig(target.configJson());
    List<Digest> diffIds = target.layers().stream().map(LayerRef::diffId).toList();
    if (!config.diffIds().equals(diffIds)) {
      // the layers are the truth: a config whose rootfs disagrees would not unpack
      config =
          new ImageConfig(config.platform(), config.created(), config.author(), config.config(), diffIds, config.history());
    }
    if (!request.labels().isEmpty()) {
      // --label: over the Dockerfile's LABELs, as BuildKit's exporter does
      Map<String, String> labels = new TreeMap<>(config.config().labels());
      labels.putAll(request.labels());
      config = config.withConfig(config.config().withLabels(labels));
    }
    byte[] configJson = ImageJson.writeConfig(config);
    StoredBlob configBlob = store.putBytes(Namespace.BLOBS, configJson);
    List<Descriptor> layers = target.layers().stream().map(StoredImageAssembler::descriptor).toList();
    requireStored(layers);
    ImageManifest manifest =
        ImageManifest.oci(new Descriptor(MediaTypes.OCI_CONFIG, configBlob.digest(), configBlob.size()), layers);
    if (!request.annotations().isEmpty()) {
      manifest = manifest.withAnnotations(new TreeMap<>(request.annotations()));
    }
    StoredBlob manifestBlob = store.putBytes(Namespace.BLOBS, ImageJson.writeManifest(manifest));
    if (request.push()) {
      pusher.push(manifestBlob.digest(), request.tags(), request.registryCredentials());
    }
    return new Assembled(manifestBlob.digest().toString(), configBlob.digest().toString());
  }

  /** One HEAD per layer, concurrently: a 30-layer image is checked in one round trip. */
  private void requireStored(List<Descriptor> layers) throws Exception {
    try (var checks = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      List<java.util.concurrent.Future<Boolean>> stored = new java.util.ArrayList<>();
      for (Descriptor layer : layers) {
        stored.add(checks.submit(() -> store.contains(layer.digest())));
      }
      for (int i = 0; i < layers.size(); i++) {
        if (!stored.get(i).get()) {
          throw new IOException("layer " + layers.get(i).digest() + " of the image is missing from the content store");
        }
      }
    }
  }

  /** The layer as the manifest lists it; a layer reported without a media type is a gzip tar. */
  private static Descriptor descriptor(LayerRef layer) {
    Descriptor blob = layer.blob();
    return blob.mediaType().isEmpty() ? blob.withMediaType(MediaTypes.OCI_LAYER_TAR_GZIP) : blob;
  }

  /** Pushes a stored image to a registry under the given names. */
  @FunctionalInterface
  public interface ImagePusher {
    ImagePusher UNSUPPORTED =
        (manifest, tags) -> {
          throw new IOException("pushing to a registry is not available in this coordinator");
        };

    void push(Digest manifest, List<String> tags) throws Exception;

    /** With the build's client's registry credentials; a pusher without per-build credentials ignores them. */
    default void push(Digest manifest, List<String> tags, Map<String, RegistryCredentials> credentials)
        throws Exception {
      push(manifest, tags);
    }
  }
}
