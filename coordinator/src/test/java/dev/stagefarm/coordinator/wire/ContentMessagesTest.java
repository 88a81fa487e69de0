package dev.stagefarm.coordinator.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.stagefarm.coordinator.content.LayerRef;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.Layer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContentMessagesTest {
  static final StageResult RESULT = new StageResult(
      List.of(new LayerRef(new Descriptor(MediaTypes.OCI_LAYER_TAR_GZIP, Digest.of("blob"), 4), Digest.of("tar"))),
      "{\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8),
      "stage:build");

  @Test
  void aStageResultSurvivesTheWireUnchanged() {
    ImageState proto = ContentMessages.toProto(RESULT);

    assertThat(proto.getLayers(0).getBlob().getDigest()).isEqualTo(Digest.of("blob").toString());
    assertThat(proto.getLayers(0).getDiffId()).isEqualTo(Digest.of("tar").toString());
    assertThat(proto.getConfigJson().toStringUtf8()).isEqualTo("{\"os\":\"linux\"}");
    assertThat(ContentMessages.fromProto(proto)).isEqualTo(RESULT);
  }

  @Test
  void aLayerWithAMalformedDigestIsRefusedWhenDecoded() {
    ImageState proto = ImageState.newBuilder()
        .addLayers(Layer.newBuilder().setDiffId("sha256:short"))
        .setConfigJson(ByteString.EMPTY)
        .build();

    assertThatThrownBy(() -> ContentMessages.fromProto(proto)).isInstanceOf(IllegalArgumentException.class);
  }
}
