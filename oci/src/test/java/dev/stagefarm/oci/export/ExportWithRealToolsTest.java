package dev.stagefarm.oci.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.image.BuiltImage;
import dev.stagefarm.oci.image.BusyboxRootfs;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.HistoryEntry;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageImporter;
import dev.stagefarm.oci.layer.LayerWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our images checked by the real tools: skopeo reads the OCI archive and the docker-archive (and verifies every
 * blob when copying), umoci unpacks an image whose top layer has whiteouts and an opaque directory.
 */
class ExportWithRealToolsTest {

    @TempDir
    static Path tmp;
    static OciLayoutDirectory layout;
    static BuiltImage base;
    static BuiltImage withWhiteouts;

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = p.waitFor();
        assertThat(exit).as("%s exited %d: %s", String.join(" ", command), exit, out).isZero();
        return out;
    }

    @BeforeAll
    static void buildImages() throws Exception {
        layout = OciLayoutDirectory.open(tmp.resolve("layout"));
        base = BusyboxRootfs.buildImage(Files.createDirectory(tmp.resolve("busybox")), layout);

        // the second layer as a worker makes it: an overlayfs upper dir after "rm /etc/group; rm -rf /root; …"
        Path upper = Files.createDirectory(tmp.resolve("upper"));
        Files.createDirectories(upper.resolve("etc"));
        run("mknod", upper.resolve("etc/group").toString(), "c", "0", "0");
        Path root = Files.createDirectories(upper.resolve("tmp"));
        run("setfattr", "-n", "trusted.overlay.opaque", "-v", "y", root.toString());
        Files.writeString(root.resolve("fresh"), "fresh\n");
        Files.writeString(upper.resolve("etc/motd"), "hello\n");
        LayerWriter writer = new LayerWriter(LayerWriter.Options.defaults().withOverlayUpper(true)
                .withSourceDateEpoch(Instant.EPOCH));
        withWhiteouts = new ImageImporter(writer, tmp).importRootfs(upper,
                base.config().withHistory(HistoryEntry.of(Instant.EPOCH, "ENV X=1", true)),
                base.manifest().layers(), "RUN rm /etc/group && rm -rf /tmp/*", layout);
        layout.tag(base.manifestDescriptor(), "base");
        layout.tag(withWhiteouts.manifestDescriptor(), "whiteouts");
    }

    @Test
    void busyboxImageIsReproducible() throws Exception {
        OciLayoutDirectory other = OciLayoutDirectory.open(tmp.resolve("again"));
        BuiltImage again = BusyboxRootfs.buildImage(Files.createDirectory(tmp.resolve("busybox-again")), other);
        assertThat(again.manifestDescriptor().digest()).isEqualTo(base.manifestDescriptor().digest());
    }

    @Test
    void umociUnpacksWhiteoutsAndOpaqueDirectories() throws Exception {
        Path bundle = tmp.resolve("bundle");
        run("umoci", "unpack", "--image", layout.path() + ":whiteouts", bundle.toString());
        Path rootfs = bundle.resolve("rootfs");
        assertThat(rootfs.resolve("bin/busybox")).isRegularFile();
        assertThat(Files.isSymbolicLink(rootfs.resolve("bin/sh"))).isTrue();
        assertThat(rootfs.resolve("etc/passwd")).exists();
        assertThat(rootfs.resolve("etc/group")).doesNotExist();
        assertThat(rootfs.resolve("etc/motd")).hasContent("hello");
        assertThat(rootfs.resolve("tmp/fresh")).hasContent("fresh");
        assertThat(Files.exists(rootfs.resolve("etc/.wh.group"), LinkOption.NOFOLLOW_LINKS)).isFalse();
    }

    @Test
    void umociSeesTheBaseTmpHiddenByTheOpaqueDir() throws Exception {
        // a base with content in /tmp, then the same opaque layer on top: the content must vanish
        Path rootfs = Files.createDirectories(tmp.resolve("base2/rootfs"));
        BusyboxRootfs.create(rootfs);
        Files.writeString(rootfs.resolve("tmp/old"), "old\n");
        LayerWriter plain = new LayerWriter(LayerWriter.Options.defaults().withSourceDateEpoch(Instant.EPOCH));
        BuiltImage base2 = new ImageImporter(plain, tmp).importRootfs(rootfs,
                ImageConfig.scratch(Platform.LINUX_AMD64).withConfig(base.config().config()),
                List.of(), "rootfs with /tmp/old", layout);
        // reuse the whiteout layer (last layer of withWhiteouts) on top of base2
        Descriptor top = withWhiteouts.manifest().layers().getLast();
        List<Descriptor> layers = new ArrayList<>(base2.manifest().layers());
        layers.add(top);
        BuiltImage stacked = ImageImporter.store(base2.config().withLayer(withWhiteouts.config().diffIds().getLast(),
                HistoryEntry.of(Instant.EPOCH, "RUN rm -rf /tmp/*", false)), layers, layout);
        layout.tag(stacked.manifestDescriptor(), "stacked");

        Path bundle = tmp.resolve("bundle-stacked");
        run("umoci", "unpack", "--image", layout.path() + ":stacked", bundle.toString());
        assertThat(bundle.resolve("rootfs/tmp/old")).doesNotExist();
        assertThat(bundle.resolve("rootfs/tmp/fresh")).hasContent("fresh");
        assertThat(bundle.resolve("rootfs/etc/group")).doesNotExist();
    }

    @Test
    void skopeoReadsAndCopiesTheOciArchive() throws Exception {
        Path archive = tmp.resolve("image-oci.tar");
        try (OutputStream out = Files.newOutputStream(archive)) {
            OciArchiveExporter.export(layout, withWhiteouts.manifestDescriptor(), ImageRef.parse("stagefarm/demo:1.0"),
                    out);
        }
        JsonNode inspect = new ObjectMapper().readTree(run("skopeo", "inspect", "oci-archive:" + archive));
        assertThat(inspect.get("Digest").asText()).isEqualTo(withWhiteouts.manifestDescriptor().digest().toString());
        assertThat(inspect.get("Layers")).hasSize(2);
        assertThat(inspect.get("Architecture").asText()).isEqualTo("amd64");
        assertThat(inspect.get("Env").toString()).contains("PATH=" + BusyboxRootfs.PATH);

        // by tag, as the ref.name annotation says
        run("skopeo", "inspect", "oci-archive:" + archive + ":1.0");
        Path copy = tmp.resolve("copied");
        run("skopeo", "copy", "oci-archive:" + archive, "oci:" + copy + ":copied");
        assertThat(new String(Files.readAllBytes(copy.resolve("index.json")), StandardCharsets.UTF_8))
                .contains("copied");
        assertThat(copy.resolve("blobs/sha256/" + withWhiteouts.manifestDescriptor().digest().hex())).exists();
    }

    @Test
    void skopeoReadsAndCopiesTheDockerArchive() throws Exception {
        Path archive = tmp.resolve("image-docker.tar");
        try (OutputStream out = Files.newOutputStream(archive)) {
            DockerArchiveExporter.export(layout, withWhiteouts.manifestDescriptor(),
                    ImageRef.parse("stagefarm/demo:1.0"), out);
        }
        JsonNode inspect = new ObjectMapper().readTree(run("skopeo", "inspect", "docker-archive:" + archive));
        assertThat(inspect.get("Layers")).hasSize(2);
        assertThat(inspect.get("Os").asText()).isEqualTo("linux");
        // the copy finds the image by its RepoTags name and verifies each layer against the config's diff_ids
        Path copy = tmp.resolve("copied-docker");
        run("skopeo", "copy", "docker-archive:" + archive + ":stagefarm/demo:1.0", "oci:" + copy + ":x");
        Path bundle = tmp.resolve("bundle-docker");
        run("umoci", "unpack", "--image", copy + ":x", bundle.toString());
        assertThat(bundle.resolve("rootfs/etc/motd")).hasContent("hello");
        assertThat(bundle.resolve("rootfs/etc/group")).doesNotExist();
    }
}
