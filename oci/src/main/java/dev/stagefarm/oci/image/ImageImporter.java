package dev.stagefarm.oci.image;

import dev.stagefarm.oci.BlobSink;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.layer.LayerResult;
import dev.stagefarm.oci.layer.LayerWriter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds an image from a root-filesystem directory: one reproducible layer, a config and an OCI manifest, all put
 * into a {@link BlobSink} (an OCI layout directory, the S3 store, a registry push). Base images for tests and demos
 * are made this way, e.g. from {@link BusyboxRootfs}.
 */
public final class ImageImporter {

    private final LayerWriter layerWriter;
    private final Path scratchDir;

    /**
     * @param scratchDir where the layer is spooled before upload (its digest and size must be known first)
     */
    public ImageImporter(LayerWriter layerWriter, Path scratchDir) {
        this.layerWriter = Objects.requireNonNull(layerWriter, "layerWriter");
        this.scratchDir = Objects.requireNonNull(scratchDir, "scratchDir");
    }

    /**
     * Adds the layer of {@code rootfs} on top of {@code base} (use {@link ImageConfig#scratch} for a fresh image,
     * with Env/Cmd/… already set) and stores layer, config and manifest in {@code sink}.
     *
     * @param createdBy the history line for the layer, e.g. {@code "busybox rootfs"}
     */
    public BuiltImage importRootfs(Path rootfs, ImageConfig base, List<Descriptor> baseLayers, String createdBy,
                                   BlobSink sink) throws IOException {
        Path spool = Files.createTempFile(scratchDir, "layer", ".tar");
        try {
            LayerResult layer = layerWriter.write(rootfs, spool);
            if (!sink.contains(layer.blob().digest())) {
                try (InputStream in = Files.newInputStream(spool)) {
                    sink.put(layer.blob().digest(), layer.blob().size(), in);
                }
            }
            ImageConfig config = base.withLayer(layer.diffId(),
                    HistoryEntry.of(layerWriter.options().sourceDateEpoch().orElse(null), createdBy, false));
            List<Descriptor> layers = new ArrayList<>(baseLayers);
            layers.add(layer.blob());
            return store(config, layers, sink);
        } finally {
            Files.deleteIfExists(spool);
        }
    }

    /** Stores config and manifest for already-stored layers; returns the image. */
    public static BuiltImage store(ImageConfig config, List<Descriptor> layers, BlobSink sink) throws IOException {
        byte[] configJson = ImageJson.writeConfig(config);
        Descriptor configDescriptor = putBytes(MediaTypes.OCI_CONFIG, configJson, sink);
        ImageManifest manifest = ImageManifest.oci(configDescriptor, layers);
        byte[] manifestJson = ImageJson.writeManifest(manifest);
        Descriptor manifestDescriptor = putBytes(MediaTypes.OCI_MANIFEST, manifestJson, sink)
                .withPlatform(config.platform());
        return new BuiltImage(manifestDescriptor, manifest, config);
    }

    private static Descriptor putBytes(String mediaType, byte[] bytes, BlobSink sink) throws IOException {
        Digest digest = Digest.of(bytes);
        if (!sink.contains(digest)) {
            sink.put(digest, bytes.length, new ByteArrayInputStream(bytes));
        }
        return new Descriptor(mediaType, digest, bytes.length);
    }
}
