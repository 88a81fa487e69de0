package dev.stagefarm.coordinator.plan;

import dev.stagefarm.coordinator.content.LayerRef;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.port.ContentStore;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import dev.stagefarm.oci.store.Namespace;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * {@code --build-context NAME=oci-layout://…}: the client uploaded the layout's blobs like context
 * files; this reads the image from them (JSON bounded, every blob verified against its digest as
 * the store reads it) for the stage's platform and copies its layers to where workers read base
 * image layers, as {@code RegistryBaseImages} does for a pulled image.
 */
final class OciLayoutImages {
  static final String SCHEME = "oci-layout://";
  private static final long MAX_JSON_BYTES = 4 << 20;

  private OciLayoutImages() {}

  /** @param reference {@code oci-layout://sha256:<hex>}, the uploaded root (a manifest or an index) */
  static BaseImageResolver.ResolvedImage resolve(ContentStore content, String reference, Platform platform)
      throws PlanningException {
    try {
      Digest root = Digest.parse(reference.substring(SCHEME.length()));
      byte[] rootJson = json(content, root, "the image's root");
      Digest manifestDigest = root;
      byte[] manifestJson = rootJson;
      if (MediaTypes.isIndex(ImageJson.sniffMediaType(rootJson))) {
        Descriptor chosen = ImageJson.readIndex(rootJson).selectOrThrow(platform);
        manifestDigest = chosen.digest();
        manifestJson = json(content, manifestDigest, "the " + platform + " manifest");
      }
      ImageManifest manifest = ImageJson.readManifest(manifestJson);
      byte[] configJson = json(content, manifest.config().digest(), "the image config");
      ImageConfig config = ImageJson.readConfig(configJson);
      List<Digest> diffIds = config.diffIds();
      if (diffIds.size() != manifest.layers().size()) {
        throw new PlanningException(reference + " is malformed: " + manifest.layers().size() + " layers but "
            + diffIds.size() + " diff_ids");
      }
      String pinned = SCHEME + manifestDigest;
      List<LayerRef> layers = new ArrayList<>();
      for (int i = 0; i < diffIds.size(); i++) {
        Descriptor layer = manifest.layers().get(i);
        if (!MediaTypes.isLayer(layer.mediaType()) || MediaTypes.isForeignLayer(layer.mediaType())) {
          throw new PlanningException(reference + ": layer " + layer.digest() + " has media type "
              + layer.mediaType() + ", not a layer the farm can unpack");
        }
        copyToBlobs(content, layer);
        layers.add(new LayerRef(new Descriptor(layer.mediaType(), layer.digest(), layer.size()), diffIds.get(i)));
      }
      return new BaseImageResolver.ResolvedImage(pinned, manifestDigest.toString(),
          new StageResult(layers, configJson, pinned));
    } catch (IOException | RuntimeException e) {
      // RuntimeException: malformed JSON, no manifest for the platform, a digest mismatch
      throw new PlanningException("reading the OCI layout image " + reference + " failed: " + e.getMessage(), e);
    }
  }

  /** A small document the client uploaded, bounded before it is read; the store verifies its digest. */
  private static byte[] json(ContentStore content, Digest digest, String what) throws IOException, PlanningException {
    OptionalLong size = content.size(Namespace.CONTEXT, digest);
    if (size.isEmpty()) {
      throw new PlanningException(what + " " + digest + " was not uploaded");
    }
    if (size.getAsLong() > MAX_JSON_BYTES) {
      throw new PlanningException(what + " " + digest + " has " + size.getAsLong() + " bytes, over the limit of "
          + MAX_JSON_BYTES);
    }
    return content.read(Namespace.CONTEXT, digest);
  }

  /** Copies an uploaded layer to the layer namespace (once); {@code put} verifies its digest and size. */
  private static void copyToBlobs(ContentStore content, Descriptor layer) throws IOException, PlanningException {
    if (content.contains(Namespace.BLOBS, layer.digest())) {
      return;
    }
    if (!content.contains(Namespace.CONTEXT, layer.digest())) {
      throw new PlanningException("layer " + layer.digest() + " was not uploaded");
    }
    try (InputStream in = content.open(Namespace.CONTEXT, layer.digest())) {
      content.put(Namespace.BLOBS, layer.digest(), layer.size(), in);
    }
  }
}
