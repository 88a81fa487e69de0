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
 *
 * <p>A no-op rebuild assembles the image it assembled last time, at the same digests: when this
 * assembler stored that manifest before (it stores a manifest only after its config and layers)
 * and the store still has it, one HEAD replaces the config's HEAD, the layers' and the manifest's.
 */
public final class StoredImageAssembler implements ImageAssembler {
  /** How many manifests this assembler remembers having stored (a no-op rebuild finds its own). */
  static final int REMEMBERED_MANIFESTS = 256;

  private final Blobs store;
  private final ImagePusher pusher;
  private final Map<Digest, Boolean> stored = java.util.Collections.synchronizedMap(
      new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Digest, Boolean> eldest) {
          return size() > REMEMBERED_MANIFESTS;
        }
      });

  /** The content store as the assembler uses it (its {@code blobs/}); tests count the requests. */
  interface Blobs {
    StoredBlob putBytes(byte[] content) throws IOException;

    boolean contains(Digest digest) throws IOException;

    static Blobs of(BlobStore store) {
      return new Blobs() {
        @Override
        public StoredBlob putBytes(byte[] content) throws IOException {
          return store.putBytes(Namespace.BLOBS, content);
        }

        @Override
        public boolean contains(Digest digest) throws IOException {
          return store.contains(digest);
        }
      };
    }
  }

  public StoredImageAssembler(BlobStore store, ImagePusher pusher) {
    this(Blobs.of(store), pusher);
  }

  StoredImageAssembler(Blobs store, ImagePusher pusher) {
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
    Digest configDigest = Digest.of(configJson);
    List<Descriptor> layers = target.layers().stream().map(StoredImageAssembler::descriptor).toList();
    ImageManifest manifest =
        ImageManifest.oci(new Descriptor(MediaTypes.OCI_CONFIG, configDigest, configJson.length), layers);
    if (!request.annotations().isEmpty()) {
      manifest = manifest.withAnnotations(new TreeMap<>(request.annotations()));
    }
    byte[] manifestJson = ImageJson.writeManifest(manifest);
    Digest manifestDigest = Digest.of(manifestJson);
    if (!(stored.containsKey(manifestDigest) && store.contains(manifestDigest))) {
      store.putBytes(configJson);
      requireStored(layers);
      store.putBytes(manifestJson);
      stored.put(manifestDigest, Boolean.TRUE);
    }
    if (request.push()) {
      pusher.push(manifestDigest, request.tags(), request.registryCredentials());
    }
    return new Assembled(manifestDigest.toString(), configDigest.toString());
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
