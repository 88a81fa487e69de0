package dev.stagefarm.oci.export;

import dev.stagefarm.oci.BlobSource;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestingInputStream;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.ImageIndex;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes an OCI image layout as a tar ({@code oci-layout}, {@code index.json}, {@code blobs/sha256/…}), the format of
 * {@code skopeo copy … oci-archive:} and BuildKit's {@code --output type=oci}. The index entry carries the tag in
 * {@code org.opencontainers.image.ref.name} and the full name in {@code io.containerd.image.name}, as BuildKit does.
 */
public final class OciArchiveExporter {

    public static final String REF_NAME = "org.opencontainers.image.ref.name";
    public static final String CONTAINERD_NAME = "io.containerd.image.name";
    static final byte[] OCI_LAYOUT = "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8);

    private OciArchiveExporter() {
    }

    /**
     * @param manifest the image manifest's descriptor; its blob, config and layers come from {@code blobs}
     * @param name     the name recorded in the index
     */
    public static void export(BlobSource blobs, Descriptor manifest, ImageRef name, OutputStream out)
            throws IOException {
        try (ArchiveWriter tar = new ArchiveWriter(out)) {
            write(blobs, manifest, name, tar);
        }
    }

    /**
     * As {@link #export(BlobSource, Descriptor, ImageRef, OutputStream)}, into a file open for reading and writing
     * (from its position): blobs the source has as files are copied by the kernel and verified as they landed.
     */
    public static void export(BlobSource blobs, Descriptor manifest, ImageRef name, FileChannel file)
            throws IOException {
        try (ArchiveWriter tar = new ArchiveWriter(file)) {
            write(blobs, manifest, name, tar);
        }
    }

    private static void write(BlobSource blobs, Descriptor manifest, ImageRef name, ArchiveWriter tar)
            throws IOException {
        byte[] manifestBytes = readBlob(blobs, manifest); // read once: parsed, then written as it is
        ImageManifest image = ImageJson.readManifest(manifestBytes);
        Descriptor entry = manifest.withAnnotation(REF_NAME, name.tag()).withAnnotation(CONTAINERD_NAME,
                name.toString());
        tar.bytes("oci-layout", OCI_LAYOUT);
        tar.bytes("index.json", ImageJson.writeIndex(ImageIndex.oci(List.of(entry))));
        tar.directory("blobs");
        tar.directory("blobs/sha256");
        tar.bytes(blobPath(manifest), manifestBytes);
        tar.blob(blobPath(image.config()), blobs, image.config().digest(), image.config().size());
        for (Descriptor layer : image.layers()) {
            tar.blob(blobPath(layer), blobs, layer.digest(), layer.size());
        }
    }

    /**
     * The OCI image index of several single-platform images: each manifest with the platform of its config.
     *
     * @throws IllegalArgumentException when two images are for the same platform
     */
    public static ImageIndex indexOf(BlobSource blobs, List<Descriptor> manifests) throws IOException {
        List<Descriptor> entries = new java.util.ArrayList<>();
        java.util.Set<Platform> platforms = new java.util.HashSet<>();
        for (Descriptor manifest : manifests) {
            ImageManifest image = ImageJson.readManifest(readBlob(blobs, manifest));
            Platform platform = ImageJson.readConfig(readBlob(blobs, image.config())).platform();
            if (!platforms.add(platform)) {
                throw new IllegalArgumentException("two images for " + platform + " cannot go into one image index");
            }
            entries.add(manifest.withPlatform(platform));
        }
        return ImageIndex.oci(entries);
    }

    /**
     * Writes several single-platform images as one multi-platform image: an OCI image index listing each manifest
     * with the platform of its config, stored as a blob and named in {@code index.json} (as BuildKit's oci exporter
     * does), and the manifests, configs and layers (each blob once).
     *
     * @param manifests one image manifest per platform; their platforms come from their configs
     * @return the image index's descriptor
     * @throws IllegalArgumentException when two images are for the same platform
     */
    public static Descriptor exportIndex(BlobSource blobs, List<Descriptor> manifests, ImageRef name, OutputStream out)
            throws IOException {
        List<Descriptor> entries = indexOf(blobs, manifests).manifests();
        List<ImageManifest> images = new java.util.ArrayList<>();
        for (Descriptor manifest : manifests) {
            images.add(ImageJson.readManifest(readBlob(blobs, manifest)));
        }
        byte[] indexBytes = ImageJson.writeIndex(ImageIndex.oci(entries));
        Descriptor index = new Descriptor(MediaTypes.OCI_INDEX, Digest.of(indexBytes), indexBytes.length);
        Descriptor entry = index.withAnnotation(REF_NAME, name.tag()).withAnnotation(CONTAINERD_NAME, name.toString());
        java.util.Set<Digest> written = new java.util.HashSet<>();
        try (ArchiveWriter tar = new ArchiveWriter(out)) {
            tar.bytes("oci-layout", OCI_LAYOUT);
            tar.bytes("index.json", ImageJson.writeIndex(ImageIndex.oci(List.of(entry))));
            tar.directory("blobs");
            tar.directory("blobs/sha256");
            tar.bytes(blobPath(index), indexBytes);
            for (int i = 0; i < entries.size(); i++) {
                List<Descriptor> parts = new java.util.ArrayList<>();
                parts.add(entries.get(i));
                parts.add(images.get(i).config());
                parts.addAll(images.get(i).layers());
                for (Descriptor part : parts) {
                    if (written.add(part.digest())) {
                        tar.blob(blobPath(part), blobs, part.digest(), part.size());
                    }
                }
            }
        }
        return index;
    }

    static String blobPath(Descriptor d) {
        return "blobs/" + d.digest().algorithm() + "/" + d.digest().hex();
    }

    /** Reads a small blob (manifest, config) fully, checking digest and size. */
    static byte[] readBlob(BlobSource blobs, Descriptor d) throws IOException {
        try (DigestingInputStream in = new DigestingInputStream(blobs.open(d.digest()))) {
            byte[] bytes = in.readAllBytes();
            in.verify(d.digest(), d.size());
            return bytes;
        }
    }
}
