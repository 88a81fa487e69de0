package dev.stagefarm.oci.export;

import dev.stagefarm.oci.BlobNotFoundException;
import dev.stagefarm.oci.BlobSink;
import dev.stagefarm.oci.BlobSource;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestingInputStream;
import dev.stagefarm.oci.image.ImageIndex;
import dev.stagefarm.oci.image.ImageJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * An OCI image layout on disk (what {@code umoci}, {@code skopeo … oci:DIR} and {@code podman} read). Blobs are
 * written to a temporary file, verified, then renamed into place, so a reader never sees a partial blob.
 */
public final class OciLayoutDirectory implements BlobSink, BlobSource {

    private final Path dir;

    private OciLayoutDirectory(Path dir) {
        this.dir = dir;
    }

    /** Opens (creating when needed) a layout at {@code dir}. */
    public static OciLayoutDirectory open(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("blobs/sha256"));
        Path layout = dir.resolve("oci-layout");
        if (!Files.exists(layout)) {
            Files.write(layout, OciArchiveExporter.OCI_LAYOUT);
        }
        if (!Files.exists(dir.resolve("index.json"))) {
            Files.write(dir.resolve("index.json"), ImageJson.writeIndex(ImageIndex.oci(List.of())));
        }
        return new OciLayoutDirectory(dir);
    }

    public Path path() {
        return dir;
    }

    private Path blobPath(Digest digest) {
        return dir.resolve("blobs").resolve(digest.algorithm()).resolve(digest.hex());
    }

    @Override
    public InputStream open(Digest digest) throws IOException {
        try {
            return Files.newInputStream(blobPath(digest));
        } catch (NoSuchFileException e) {
            throw new BlobNotFoundException(digest, "OCI layout " + dir);
        }
    }

    @Override
    public boolean contains(Digest digest) {
        return Files.exists(blobPath(digest));
    }

    @Override
    public void put(Digest digest, long size, InputStream content) throws IOException {
        if (contains(digest)) {
            return;
        }
        Path target = blobPath(digest);
        Path temp = Files.createTempFile(target.getParent(), ".upload-", ".tmp");
        try {
            try (DigestingInputStream in = new DigestingInputStream(content);
                 OutputStream out = Files.newOutputStream(temp)) {
                in.transferTo(out);
                in.verify(digest, size);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Adds (or replaces, by tag) an image in {@code index.json} under {@code org.opencontainers.image.ref.name}. */
    public synchronized void tag(Descriptor manifest, String tag) throws IOException {
        ImageIndex index = ImageJson.readIndex(Files.readAllBytes(dir.resolve("index.json")));
        List<Descriptor> entries = new ArrayList<>();
        for (Descriptor d : index.manifests()) {
            if (!tag.equals(d.annotations().get(OciArchiveExporter.REF_NAME))) {
                entries.add(d);
            }
        }
        entries.add(manifest.withAnnotation(OciArchiveExporter.REF_NAME, tag));
        Path temp = Files.createTempFile(dir, ".index-", ".tmp");
        Files.write(temp, ImageJson.writeIndex(new ImageIndex(index.mediaType(), entries, index.annotations())));
        Files.move(temp, dir.resolve("index.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
