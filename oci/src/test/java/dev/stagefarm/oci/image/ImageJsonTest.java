package dev.stagefarm.oci.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ImageJsonTest {

    static byte[] golden(String name) throws IOException {
        try (InputStream in = ImageJsonTest.class.getResourceAsStream("/image/" + name)) {
            assertThat(in).as("test resource %s", name).isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void canonicalConfigRoundTripsByteForByte() throws IOException {
        byte[] golden = golden("config-canonical.json");
        ImageConfig config = ImageJson.readConfig(golden);

        assertThat(config.platform()).isEqualTo(Platform.LINUX_AMD64);
        assertThat(config.created()).contains(Instant.parse("2024-01-02T03:04:05Z"));
        ContainerConfig c = config.config();
        assertThat(c.user()).isEqualTo("1000:1000");
        assertThat(c.exposedPorts()).containsExactly("443/tcp", "80/tcp");
        assertThat(c.entrypoint()).contains(List.of());
        assertThat(c.cmd()).contains(List.of("/bin/sh", "-c", "echo hi"));
        assertThat(c.envValue("HOME")).contains("/root");
        assertThat(c.healthcheck()).hasValueSatisfying(h -> {
            assertThat(h.test()).containsExactly("CMD-SHELL", "wget -q -O- http://localhost/ || exit 1");
            assertThat(h.interval()).isEqualTo(Duration.ofSeconds(30));
            assertThat(h.startInterval()).isEqualTo(Duration.ofSeconds(5));
            assertThat(h.retries()).isEqualTo(3);
        });
        assertThat(c.onBuild()).containsExactly("RUN echo onbuild");
        assertThat(c.shell()).containsExactly("/bin/sh", "-c");
        assertThat(c.stopSignal()).isEqualTo("SIGTERM");
        assertThat(c.argsEscaped()).isTrue();
        assertThat(config.history()).hasSize(2);
        assertThat(config.history().get(1).emptyLayer()).isTrue();
        assertThat(config.history().get(1).comment()).isEqualTo("buildkit.dockerfile.v0");
        assertThat(config.diffIds()).containsExactly(Digest.of(new byte[0]));

        assertThat(new String(ImageJson.writeConfig(config), StandardCharsets.UTF_8))
                .isEqualTo(new String(golden, StandardCharsets.UTF_8));
    }

    @Test
    void configBuiltByWithersSerialisesCanonicallyWhateverTheOrderOfCalls() {
        ImageConfig a = ImageConfig.scratch(Platform.LINUX_AMD64)
                .updateConfig(c -> c.withLabel("b", "2").withLabel("a", "1").withExposedPort("80"))
                .updateConfig(c -> c.withVolume("/v").withEnv("A", "1"));
        ImageConfig b = ImageConfig.scratch(Platform.LINUX_AMD64)
                .updateConfig(c -> c.withEnv("A", "1").withVolume("/v").withExposedPort("80/tcp"))
                .updateConfig(c -> c.withLabel("a", "1").withLabel("b", "2"));
        assertThat(ImageJson.writeConfig(a)).isEqualTo(ImageJson.writeConfig(b));
        assertThat(new String(ImageJson.writeConfig(a), StandardCharsets.UTF_8))
                .isEqualTo("{\"architecture\":\"amd64\",\"config\":{\"Env\":[\"A=1\"],\"ExposedPorts\":{\"80/tcp\":{}},"
                        + "\"Labels\":{\"a\":\"1\",\"b\":\"2\"},\"Volumes\":{\"/v\":{}}},\"os\":\"linux\","
                        + "\"rootfs\":{\"diff_ids\":[],\"type\":\"layers\"}}");
    }

    @Test
    void envWitherReplacesInPlaceKeepingOrder() {
        ContainerConfig c = ContainerConfig.EMPTY.withEnv("A", "1").withEnv("B", "2").withEnv("A", "3");
        assertThat(c.env()).containsExactly("A=3", "B=2");
        assertThatThrownBy(() -> c.withEnv("X=Y", "1")).hasMessageContaining("X=Y");
    }

    @Test
    void readsDockerConfigWithExtraFieldsAndOffsets() throws IOException {
        ImageConfig config = ImageJson.readConfig(golden("docker-config.json"));
        assertThat(config.platform()).isEqualTo(new Platform("linux", "arm", "v7"));
        assertThat(config.created()).contains(Instant.parse("2023-05-06T05:08:09.123456789Z"));
        assertThat(config.config().cmd()).isEmpty();
        assertThat(config.config().entrypoint()).contains(List.of("/entry.sh"));
        assertThat(config.history()).extracting(HistoryEntry::emptyLayer).containsExactly(false, true);

        ImageConfig again = ImageJson.readConfig(ImageJson.writeConfig(config));
        assertThat(again).isEqualTo(config);
    }

    @Test
    void ociManifestRoundTripsByteForByte() throws IOException {
        byte[] golden = golden("manifest-canonical.json");
        ImageManifest manifest = ImageJson.readManifest(golden);
        assertThat(manifest.mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
        assertThat(manifest.config().size()).isEqualTo(1234);
        assertThat(manifest.layers()).extracting(l -> l.mediaType())
                .containsExactly(MediaTypes.OCI_LAYER_TAR_GZIP, MediaTypes.OCI_LAYER_TAR_ZSTD);
        assertThat(manifest.layers().get(1).annotations()).containsEntry("x", "y");
        assertThat(new String(ImageJson.writeManifest(manifest), StandardCharsets.UTF_8))
                .isEqualTo(new String(golden, StandardCharsets.UTF_8));
    }

    @Test
    void dockerManifestIsReadAndConvertsToOci() throws IOException {
        byte[] json = golden("docker-manifest.json");
        assertThat(ImageJson.sniffMediaType(json)).isEqualTo(MediaTypes.DOCKER_MANIFEST);
        ImageManifest manifest = ImageJson.readManifest(json);
        assertThat(manifest.layers().get(1).urls()).containsExactly("https://example.com/layer");

        ImageManifest oci = manifest.toOci();
        assertThat(oci.mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
        assertThat(oci.config().mediaType()).isEqualTo(MediaTypes.OCI_CONFIG);
        assertThat(oci.config().digest()).isEqualTo(manifest.config().digest());
        assertThat(oci.layers()).extracting(l -> l.mediaType()).containsExactly(MediaTypes.OCI_LAYER_TAR_GZIP,
                MediaTypes.OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP);
        assertThat(ImageJson.readManifest(ImageJson.writeManifest(oci))).isEqualTo(oci);
    }

    @Test
    void manifestListSelectsPlatformSkippingAttestations() throws IOException {
        byte[] json = golden("docker-manifest-list.json");
        assertThat(ImageJson.sniffMediaType(json)).isEqualTo(MediaTypes.DOCKER_MANIFEST_LIST);
        ImageIndex index = ImageJson.readIndex(json);
        assertThat(index.select(Platform.LINUX_AMD64)).map(d -> d.digest().hex().substring(0, 4)).contains("2222");
        assertThat(index.select(new Platform("linux", "arm64"))).map(d -> d.digest().hex().substring(0, 4))
                .contains("4444");
        assertThat(index.select(Platform.parse("linux/s390x"))).isEmpty();
        assertThatThrownBy(() -> index.selectOrThrow(Platform.parse("linux/s390x")))
                .isInstanceOf(NoMatchingPlatformException.class)
                .hasMessageContaining("linux/s390x").hasMessageContaining("linux/arm/v7")
                .hasMessageContaining("linux/amd64");
        assertThat(ImageJson.readIndex(ImageJson.writeIndex(index))).isEqualTo(index);
    }

    @Test
    void malformedDocumentsGiveClearErrors() {
        assertThatThrownBy(() -> ImageJson.readManifest("{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ImageFormatException.class).hasMessageContaining("no config descriptor");
        assertThatThrownBy(() -> ImageJson.readManifest("not json".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ImageFormatException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> ImageJson.readConfig(
                "{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"diff_ids\":[\"sha256:12\"]}}"
                        .getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ImageFormatException.class).hasMessageContaining("rootfs.diff_ids")
                .hasMessageContaining("sha256:12");
        assertThatThrownBy(() -> ImageJson.readConfig(
                "{\"os\":\"linux\",\"architecture\":\"amd64\",\"created\":\"yesterday\"}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ImageFormatException.class).hasMessageContaining("created").hasMessageContaining("yesterday");
    }
}
