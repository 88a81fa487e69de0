package dev.stagefarm.coordinator.remotecache;

import dev.stagefarm.coordinator.content.CachedOp;
import dev.stagefarm.coordinator.content.LayerRef;
import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.plan.PlannedStage;
import dev.stagefarm.coordinator.port.CacheRecords;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.image.ImageIndex;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.program.CacheKey;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Writes a build's op cache in BuildKit's format: an OCI index listing the layer blobs and a
 * {@code application/vnd.buildkit.cacheconfig.v0} config with one record per op key (stagefarm's key as the
 * record's digest, linked to the op before it, its result the op's layer, or an empty chain when it made none).
 */
public final class RemoteCacheExporter {
  private RemoteCacheExporter() {}

  /** What was written. */
  public record Exported(int records, int layers, Digest index) {}

  /**
   * @param records where each op's record is read (the farm's records, then the build's imported ones)
   * @throws IOException when the location cannot be written, or a layer is missing from the store
   */
  public static Exported export(BuildPlan plan, CacheSpec.Mode mode, CacheRecords records, BlobStore store,
      CacheLocation location) throws IOException {
    Map<Digest, Integer> layerIndex = new LinkedHashMap<>();
    List<CacheConfig.Layer> layers = new ArrayList<>();
    List<Descriptor> blobs = new ArrayList<>();
    List<CacheConfig.Record> cacheRecords = new ArrayList<>();
    Map<CacheKey, Integer> recordIndex = new LinkedHashMap<>();
    for (PlannedStage stage : plan.stages()) {
      if (mode == CacheSpec.Mode.MIN && !plan.layersReachTarget(stage.id())) {
        continue;
      }
      int previousRecord = -1;
      int previousLayer = -1;
      for (CacheKey key : stage.opKeys()) {
        Optional<CachedOp> op = records.find(key);
        if (op.isEmpty()) {
          previousRecord = -1; // not recorded (a failed write): the next record starts a new chain
          continue;
        }
        Integer known = recordIndex.get(key);
        if (known != null) {
          previousRecord = known;
          continue;
        }
        Optional<Integer> result = Optional.empty();
        if (op.get().layer().isPresent()) {
          LayerRef layer = op.get().layer().get();
          Integer index = layerIndex.get(layer.blob().digest());
          if (index == null) {
            index = layers.size();
            layerIndex.put(layer.blob().digest(), index);
            layers.add(new CacheConfig.Layer(layer.blob().digest(), previousLayer, layer.blob().mediaType(),
                Optional.of(layer.diffId()), layer.blob().size(), "1970-01-01T00:00:00Z"));
            blobs.add(new Descriptor(layer.blob().mediaType(), layer.blob().digest(), layer.blob().size())
                .withAnnotation("containerd.io/uncompressed", layer.diffId().toString()));
          }
          previousLayer = index;
          result = Optional.of(index);
        }
        recordIndex.put(key, cacheRecords.size());
        cacheRecords.add(new CacheConfig.Record("sha256:" + key.hex(),
            previousRecord < 0 ? List.of() : List.of(previousRecord), result, result.isEmpty()));
        previousRecord = cacheRecords.size() - 1;
      }
    }
    for (Descriptor blob : blobs) {
      if (!location.contains(blob.digest())) {
        try (InputStream in = store.open(Namespace.BLOBS, blob.digest())) {
          location.put(blob.digest(), blob.size(), in);
        }
      }
    }
    byte[] config = new CacheConfig(layers, cacheRecords).toJson();
    Descriptor configDescriptor = new Descriptor(CacheConfig.MEDIA_TYPE, Digest.of(config), config.length);
    location.put(configDescriptor.digest(), config.length, new ByteArrayInputStream(config));
    List<Descriptor> manifests = new ArrayList<>(blobs);
    manifests.add(configDescriptor);
    byte[] index = ImageJson.writeIndex(ImageIndex.oci(manifests));
    location.writeRoot(new CacheLocation.Root(MediaTypes.OCI_INDEX, index));
    return new Exported(cacheRecords.size(), layers.size(), Digest.of(index));
  }
}
