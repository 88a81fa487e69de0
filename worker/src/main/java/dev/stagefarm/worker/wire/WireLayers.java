package dev.stagefarm.worker.wire;

import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.proto.v1.Layer;
import dev.stagefarm.worker.store.LayerRef;

/** Layers between the wire ({@code stagefarm.v1.Layer}: Kafka payloads, S3 cache records) and the worker's domain. */
public final class WireLayers {
  private WireLayers() {}

  /** @throws dev.stagefarm.oci.InvalidDigestException for a malformed digest */
  public static LayerRef fromProto(Layer layer) {
    var blob = layer.getBlob();
    return new LayerRef(new Descriptor(blob.getMediaType(), Digest.parse(blob.getDigest()), blob.getSize()),
        Digest.parse(layer.getDiffId()));
  }

  public static Layer toProto(LayerRef layer) {
    return Layer.newBuilder()
        .setBlob(dev.stagefarm.proto.v1.Descriptor.newBuilder()
            .setMediaType(layer.blob().mediaType())
            .setDigest(layer.blob().digest().toString())
            .setSize(layer.blob().size()))
        .setDiffId(layer.diffId().toString())
        .build();
  }
}
