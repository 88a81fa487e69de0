package dev.stagefarm.testkit;

import dev.stagefarm.oci.BlobSink;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.export.OciLayoutDirectory;
import dev.stagefarm.oci.image.BuiltImage;
import dev.stagefarm.oci.image.BusyboxRootfs;
import dev.stagefarm.oci.image.ContainerConfig;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageImporter;
import dev.stagefarm.oci.layer.LayerWriter;
import dev.stagefarm.oci.registry.ImageReference;
import dev.stagefarm.oci.registry.PushOptions;
import dev.stagefarm.oci.registry.RegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The base image of our tests, since no public registry is reachable: busybox from Debian's {@code busybox-static}
 * with an applet symlink per command, {@code /etc/passwd} and {@code /etc/group} with root, nobody and a user
 * {@code app} (uid/gid 1000), and a 1777 {@code /tmp}; linux/amd64, {@code PATH} set, {@code CMD ["sh"]}. Built once
 * per JVM (reproducibly: mtimes at the epoch) into an OCI layout directory, from which it is pushed to registries or
 * copied into blob stores.
 */
public final class BusyboxImage {

    /** The repository the image is pushed to. */
    public static final String REPOSITORY = "library/busybox";
    public static final String TAG = "latest";
    public static final String PATH = BusyboxRootfs.PATH;

    private static BuiltImage image;
    private static OciLayoutDirectory layout;
    private static final Map<String, ImageReference> PUSHED = new ConcurrentHashMap<>();

    private BusyboxImage() {
    }

    /** The image (manifest descriptor, manifest, config), building it on first use. */
    public static synchronized BuiltImage image() {
        if (image == null) {
            build();
        }
        return image;
    }

    /** The OCI layout directory that holds the image's blobs, tagged {@value #TAG}. */
    public static synchronized OciLayoutDirectory layout() {
        image();
        return layout;
    }

    /** The manifest's exact bytes. */
    public static byte[] manifestBytes() {
        try (InputStream in = layout().open(image().manifestDescriptor().digest())) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Pushes the image to the registry as {@code REGISTRY/library/busybox:latest} (once per registry per JVM).
     *
     * @return the reference, pinned to the manifest digest
     */
    public static ImageReference pushTo(RegistryFixture registry) {
        return PUSHED.computeIfAbsent(registry.host(), host -> {
            ImageReference ref = registry.reference(REPOSITORY + ":" + TAG);
            try (RegistryClient client = new RegistryClient(registry.settings())) {
                return ref.withDigest(client.pushImage(ref, manifestBytes(), layout(), PushOptions.MONOLITHIC));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot push the busybox test image to " + ref + ": " + e.getMessage(), e);
            }
        });
    }

    /** Copies the image's layer, config and manifest into {@code sink} (e.g. a BlobStore); returns the image. */
    public static BuiltImage storeIn(BlobSink sink) throws IOException {
        BuiltImage built = image();
        List<Descriptor> blobs = new ArrayList<>(built.manifest().layers());
        blobs.add(built.manifest().config());
        blobs.add(built.manifestDescriptor());
        for (Descriptor blob : blobs) {
            if (!sink.contains(blob.digest())) {
                try (InputStream in = layout().open(blob.digest())) {
                    sink.put(blob.digest(), blob.size(), in);
                }
            }
        }
        return built;
    }

    private static void build() {
        OciLayoutDirectory dir;
        try {
            dir = buildInto(TempDirectories.createDeletedAtExit("stagefarm-busybox-"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the busybox test image: " + e.getMessage(), e);
        }
        layout = dir;
        image = lastBuilt;
    }

    private static BuiltImage lastBuilt;

    /** Builds the image into {@code work} (rootfs, scratch and an OCI layout tagged {@value #TAG}). */
    static synchronized OciLayoutDirectory buildInto(Path work) throws IOException {
        Path rootfs = Files.createDirectories(work.resolve("rootfs"));
        BusyboxRootfs.create(rootfs);
        addAppUser(rootfs);
        ImageConfig config = ImageConfig.scratch(Platform.LINUX_AMD64)
                .withCreated(Instant.EPOCH)
                .withConfig(ContainerConfig.EMPTY.withEnv("PATH", PATH).withCmd(Optional.of(List.of("sh"))));
        LayerWriter writer = new LayerWriter(LayerWriter.Options.defaults().withSourceDateEpoch(Instant.EPOCH));
        OciLayoutDirectory dir = OciLayoutDirectory.open(work.resolve("layout"));
        BuiltImage built = new ImageImporter(writer, Files.createDirectories(work.resolve("scratch")))
                .importRootfs(rootfs, config, List.of(), "busybox rootfs from busybox-static", dir);
        dir.tag(built.manifestDescriptor(), TAG);
        lastBuilt = built;
        return dir;
    }

    private static void addAppUser(Path rootfs) throws IOException {
        Files.writeString(rootfs.resolve("etc/passwd"), "app:x:1000:1000:app:/home/app:/bin/sh\n",
                StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        Files.writeString(rootfs.resolve("etc/group"), "app:x:1000:\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        Path home = Files.createDirectories(rootfs.resolve("home/app"));
        Files.setAttribute(home, "unix:uid", 1000);
        Files.setAttribute(home, "unix:gid", 1000);
    }
}
