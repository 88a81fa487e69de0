package dev.stagefarm.oci.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.BuiltImage;
import dev.stagefarm.oci.image.ImageIndex;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.NoMatchingPlatformException;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.GeneratedContent;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.testkit.S3Fixture;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(S3Fixture.class)
class RegistryClientTest {

    private static RegistryFixture registry;
    private static RegistryClient client;

    @BeforeAll
    static void startRegistry() {
        registry = RegistryFixture.shared();
        client = new RegistryClient(registry.settings());
    }

    @AfterAll
    static void closeClient() {
        client.close();
    }

    @Test
    void pushedImageResolvesAndPullsBackByteForByte() throws IOException {
        BuiltImage busybox = BusyboxImage.image();
        ImageReference pushed = BusyboxImage.pushTo(registry);
        assertThat(pushed.digest()).isEqualTo(busybox.manifestDescriptor().digest());

        ResolvedImage resolved = client.resolve(registry.reference("library/busybox:latest"), Platform.LINUX_AMD64);

        assertThat(resolved.manifestDigest()).isEqualTo(busybox.manifestDescriptor().digest());
        assertThat(resolved.indexDigest()).isEmpty();
        assertThat(resolved.parsed().layers()).isEqualTo(busybox.manifest().layers());
        byte[] config = client.fetchBlob(pushed, resolved.parsed().config().digest());
        assertThat(ImageJson.readConfig(config).platform()).isEqualTo(Platform.LINUX_AMD64);
        Descriptor layer = resolved.parsed().layers().getFirst();
        try (InputStream in = client.openBlob(pushed, layer.digest())) {
            assertThat(in.transferTo(java.io.OutputStream.nullOutputStream())).isEqualTo(layer.size());
        }
        assertThat(client.resolveDigest(registry.reference("library/busybox:latest"))).isEqualTo(pushed.digest());
    }

    @Test
    void skopeoSeesTheImageWePushed() throws Exception {
        ImageReference pushed = BusyboxImage.pushTo(registry);

        JsonNode inspect = new ObjectMapper().readTree(run("skopeo", "inspect", "--tls-verify=false",
                "docker://" + registry.host() + "/library/busybox:latest"));

        assertThat(inspect.get("Digest").asText()).isEqualTo(pushed.digest().toString());
        assertThat(inspect.get("Architecture").asText()).isEqualTo("amd64");
        assertThat(inspect.get("Layers").get(0).asText())
                .isEqualTo(BusyboxImage.image().manifest().layers().getFirst().digest().toString());
    }

    @Test
    void pullsAnImageThatSkopeoPushedAsDockerSchema2() throws Exception {
        run("skopeo", "copy", "--dest-tls-verify=false", "--format", "v2s2",
                "oci:" + BusyboxImage.layout().path() + ":latest",
                "docker://" + registry.host() + "/skopeo/busybox:v2s2");

        ResolvedImage resolved = client.resolve(registry.reference("skopeo/busybox:v2s2"), Platform.LINUX_AMD64);

        assertThat(resolved.manifest().mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
        assertThat(resolved.parsed().config().mediaType()).isEqualTo(MediaTypes.DOCKER_CONFIG);
        Descriptor layer = resolved.parsed().layers().getFirst();
        assertThat(layer.mediaType()).isEqualTo(MediaTypes.DOCKER_LAYER_GZIP);
        byte[] config = client.fetchBlob(resolved.reference(), resolved.parsed().config().digest());
        assertThat(ImageJson.readConfig(config).config().cmd()).contains(List.of("sh"));
    }

    @Test
    void indexResolvesToTheRequestedPlatformOrSaysWhichItHas() throws IOException {
        ImageReference pushed = BusyboxImage.pushTo(registry);
        Descriptor amd64 = BusyboxImage.image().manifestDescriptor().withPlatform(Platform.LINUX_AMD64);
        byte[] index = ImageJson.writeIndex(ImageIndex.oci(List.of(amd64)));
        ImageReference multi = registry.reference("library/busybox:multi");
        client.pushManifest(multi, MediaTypes.OCI_INDEX, index);

        ResolvedImage resolved = client.resolve(multi, Platform.LINUX_AMD64);

        assertThat(resolved.indexDigest()).contains(Digest.of(index));
        assertThat(resolved.manifestDigest()).isEqualTo(pushed.digest());
        assertThat(resolved.topLevelDigest()).isEqualTo(Digest.of(index));
        assertThatThrownBy(() -> client.resolve(multi, Platform.LINUX_ARM64))
                .isInstanceOf(NoMatchingPlatformException.class)
                .hasMessageContaining("linux/arm64/v8")
                .hasMessageContaining("linux/amd64");
    }

    @Test
    void blobsGoUpChunkedOrWholeOnlyOnceAndMountAcrossRepositories() throws IOException {
        GeneratedContent content = new GeneratedContent(21, 5 * 1024 * 1024 + 17);
        Digest digest = content.digest();
        ImageReference first = registry.reference("push/first:x");
        ImageReference second = registry.reference("push/second:x");
        ImageReference third = registry.reference("push/third:x");

        assertThat(client.pushBlob(first, digest, content.size(), d -> content.stream(), PushOptions.chunked(1 << 20)))
                .isEqualTo(PushResult.UPLOADED);
        assertThat(client.pushBlob(first, digest, content.size(), d -> content.stream(), PushOptions.MONOLITHIC))
                .isEqualTo(PushResult.ALREADY_PRESENT);
        assertThat(client.pushBlob(second, digest, content.size(), d -> content.stream(),
                PushOptions.MONOLITHIC.mountingFrom("push/first"))).isEqualTo(PushResult.MOUNTED);
        assertThat(client.mountBlob(third, digest, "push/first")).isTrue();

        for (ImageReference repo : List.of(first, second, third)) {
            try (InputStream in = client.openBlob(repo, digest)) {
                assertThat(in.readNBytes(4096)).isEqualTo(content.bytes(0, 4096));
                in.transferTo(java.io.OutputStream.nullOutputStream()); // to the end: digest verified
            }
        }
        GeneratedContent other = new GeneratedContent(22, 300_000);
        assertThat(client.pushBlob(first, other.digest(), other.size(), d -> other.stream(), PushOptions.MONOLITHIC))
                .isEqualTo(PushResult.UPLOADED);
        assertThat(client.blobExists(first, other.digest())).isTrue();
        assertThat(client.blobExists(second, other.digest())).isFalse();
    }

    @Test
    void aRepositoryServesAsABlobSink() throws IOException {
        ImageReference repo = registry.reference("sink/target:x");
        var sink = client.blobSink(repo);
        GeneratedContent content = new GeneratedContent(23, 2_000_000);

        assertThat(sink.contains(content.digest())).isFalse();
        try (InputStream in = content.stream()) {
            sink.put(content.digest(), content.size(), in);
        }

        assertThat(sink.contains(content.digest())).isTrue();
        assertThat(client.fetchBlob(repo, content.digest())).isEqualTo(content.bytes(0, (int) content.size()));
    }

    @Test
    void missingManifestAndBlobErrorsNameWhatWasAskedFor() {
        ImageReference missing = registry.reference("library/nothing-here:1.0");
        assertThatThrownBy(() -> client.fetchManifest(missing))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.notFound()).isTrue())
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("not found");
        assertThatThrownBy(() -> client.resolveDigest(missing))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.notFound()).isTrue())
                .hasMessageContaining("HEAD manifest " + missing);

        Digest absent = Digest.of("absent");
        assertThatThrownBy(() -> client.openBlob(BusyboxImage.pushTo(registry), absent))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.notFound()).isTrue())
                .hasMessageContaining(absent.toString())
                .hasMessageContaining("BLOB_UNKNOWN");
    }

    @Test
    void plainHttpIsRefusedUnlessTheRegistryIsConfiguredInsecure() {
        BusyboxImage.pushTo(registry);
        try (RegistryClient strict = new RegistryClient(RegistrySettings.empty())) {
            assertThatThrownBy(() -> strict.fetchManifest(registry.reference("library/busybox:latest")))
                    .isInstanceOf(RegistryException.class)
                    .hasMessageContaining("https://" + registry.host());
        }
    }

    @Test
    void dockerHubReferencesResolveThroughAConfiguredMirror() throws IOException {
        ImageReference pushed = BusyboxImage.pushTo(registry);
        RegistrySettings mirrored = registry.settings().withMirrors(ImageReference.DOCKER_HUB, List.of(registry.host()));

        try (RegistryClient viaMirror = new RegistryClient(mirrored)) {
            ResolvedImage resolved = viaMirror.resolve(ImageReference.parse("busybox"), Platform.LINUX_AMD64);
            assertThat(resolved.reference().toString()).isEqualTo("docker.io/library/busybox:latest");
            assertThat(resolved.manifestDigest()).isEqualTo(pushed.digest());
        }
    }

    @Test
    void baseImageLayersAreCopiedIntoTheStoreOnce(BlobStore store) throws IOException {
        ImageReference pushed = BusyboxImage.pushTo(registry);
        BaseImageFetcher fetcher = new BaseImageFetcher(client, store);

        BaseImageFetcher.FetchedImage first = fetcher.fetch(pushed, Platform.LINUX_AMD64);
        BaseImageFetcher.FetchedImage second = fetcher.fetch(pushed, Platform.LINUX_AMD64);

        BuiltImage busybox = BusyboxImage.image();
        assertThat(first.blobsCopied()).isEqualTo(2); // config + the one layer
        assertThat(second.blobsCopied()).isZero();
        assertThat(store.contains(busybox.manifestDescriptor().digest())).isTrue();
        assertThat(store.contains(busybox.manifest().config().digest())).isTrue();
        assertThat(store.contains(busybox.manifest().layers().getFirst().digest())).isTrue();
    }

    static String run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("%s exited with output:%n%s", String.join(" ", command), output).isZero();
        return output;
    }
}
