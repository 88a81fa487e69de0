package dev.stagefarm.coordinator.wire;

import com.google.protobuf.ByteString;
import dev.stagefarm.coordinator.content.LayerRef;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.Layer;

/**
 * Content values to and from their protobuf messages (content.proto).
 * Decoding parses every digest once: a message with a malformed one is refused with an {@link
 * IllegalArgumentException} naming it.
 */
public final class ContentMessages {
  private ContentMessages() {}

  public static ImageState toProto(StageResult result) {
    ImageState.Builder state =
        ImageState.newBuilder().setConfigJson(ByteString.copyFrom(result.configJson())).setOrigin(result.origin());
    result.layers().forEach(layer -> state.addLayers(toProto(layer)));
    return state.build();
  }

  public static StageResult fromProto(ImageState state) {
    return new StageResult(
        state.getLayersList().stream().map(ContentMessages::fromProto).toList(),
        state.getConfigJson().toByteArray(),
        state.getOrigin());
  }

  public static Layer toProto(LayerRef layer) {
    Descriptor blob = layer.blob();
    return Layer.newBuilder()
        .setBlob(
            dev.stagefarm.proto.v1.Descriptor.newBuilder()
                .setMediaType(blob.mediaType())
                .setDigest(blob.digest().toString())
                .setSize(blob.size())
                .putAllAnnotations(blob.annotations()))
        .setDiffId(layer.diffId().toString())
        .build();
  }

  public static LayerRef fromProto(Layer layer) {
    dev.stagefarm.proto.v1.Descriptor blob = layer.getBlob();
    return new LayerRef(
        new Descriptor(blob.getMediaType(), Digest.parse(blob.getDigest()), blob.getSize())
            .withAnnotations(blob.getAnnotationsMap()),
        Digest.parse(layer.getDiffId()));
  }

}
