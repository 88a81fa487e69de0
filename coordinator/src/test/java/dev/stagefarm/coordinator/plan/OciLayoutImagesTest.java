package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.coordinator.port.InMemoryContentStore;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.HistoryEntry;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageIndex;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import dev.stagefarm.oci.store.Namespace;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a client's {@code oci-layout://sha256:…} can name, as the planner reads it from the uploaded blobs. */
class OciLayoutImagesTest {
  private static final Platform AMD64 = new Platform("linux", "amd64");
  private final InMemoryContentStore content = new InMemoryContentStore();
  private final byte[] layer = "a layer's bytes".getBytes(StandardCharsets.UTF_8);

  /** Uploads (to the context namespace, as the client does) an image with one layer; returns its manifest's descriptor. */
  private Descriptor uploadImage(boolean withLayer) throws Exception {
    Digest layerDigest = Digest.of(layer);
    if (withLayer) {
      content.putBytes(Namespace.CONTEXT, layer);
    }
    byte[] config = ImageJson.writeConfig(ImageConfig.scratch(AMD64)
        .withLayer(layerDigest, HistoryEntry.of(Instant.EPOCH, "layer", false)));
    Digest configDigest = content.putBytes(Namespace.CONTEXT, config);
    byte[] manifest = ImageJson.writeManifest(ImageManifest.oci(
        new Descriptor(MediaTypes.OCI_CONFIG, configDigest, config.length),
        List.of(new Descriptor(MediaTypes.OCI_LAYER_TAR, layerDigest, layer.length))));
    return new Descriptor(MediaTypes.OCI_MANIFEST, content.putBytes(Namespace.CONTEXT, manifest), manifest.length,
        Map.of(), Optional.of(AMD64), List.of());
  }

  @Test
  void anIndexGivesThePlatformsManifestAndItsLayersMoveWhereWorkersReadThem() throws Exception {
    Descriptor manifest = uploadImage(true);
    Digest index = content.putBytes(Namespace.CONTEXT, ImageJson.writeIndex(ImageIndex.oci(List.of(manifest))));

    var image = OciLayoutImages.resolve(content, "oci-layout://" + index, AMD64);

    assertThat(image.manifestDigest()).isEqualTo(manifest.digest().toString());
    assertThat(image.image().layers()).hasSize(1);
    assertThat(content.contains(Namespace.BLOBS, Digest.of(layer))).isTrue();
    assertThatThrownBy(() -> OciLayoutImages.resolve(content, "oci-layout://" + index, new Platform("linux", "s390x")))
        .isInstanceOf(PlanningException.class).hasMessageContaining("linux/s390x").hasMessageContaining("linux/amd64");
  }

  @Test
  void aRootOrLayerThatWasNeverUploadedIsAPlanningErrorNamingIt() throws Exception {
    Descriptor manifest = uploadImage(false);
    Digest absent = Digest.of("never uploaded");

    assertThatThrownBy(() -> OciLayoutImages.resolve(content, "oci-layout://" + absent, AMD64))
        .isInstanceOf(PlanningException.class).hasMessageContaining(absent + " was not uploaded");
    assertThatThrownBy(() -> OciLayoutImages.resolve(content, "oci-layout://" + manifest.digest(), AMD64))
        .isInstanceOf(PlanningException.class).hasMessageContaining("layer " + Digest.of(layer) + " was not uploaded");
  }

  @Test
  void anOversizedOrMalformedRootIsRefusedBeforeItIsParsed() throws Exception {
    Digest huge = content.putBytes(Namespace.CONTEXT, new byte[(4 << 20) + 1]);
    Digest garbage = content.putBytes(Namespace.CONTEXT, "{\"not\":\"an image\"".getBytes(StandardCharsets.UTF_8));

    assertThatThrownBy(() -> OciLayoutImages.resolve(content, "oci-layout://" + huge, AMD64))
        .isInstanceOf(PlanningException.class).hasMessageContaining("over the limit of 4194304");
    assertThatThrownBy(() -> OciLayoutImages.resolve(content, "oci-layout://" + garbage, AMD64))
        .isInstanceOf(PlanningException.class).hasMessageContaining("reading the OCI layout image");
  }
}
