package dev.stagefarm.oci.export;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.oci.BlobSource;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.Map;

/**
 * Writes a docker-archive tar ({@code docker save} format) that {@code docker load} and {@code skopeo … docker-archive:}
 * read: {@code manifest.json} (Config, RepoTags, Layers), {@code repositories}, and the blobs under
 * {@code blobs/sha256/…} as Docker 25's {@code docker save} lays them out. Layers stay in their blob encoding (gzip or
 * plain tar): {@code docker load} decompresses what it finds, so we never re-encode.
 */
public final class DockerArchiveExporter {

    private static final ObjectMapper JSON = new ObjectMapper();

    record ManifestEntry(@JsonProperty("Config") String config, @JsonProperty("RepoTags") List<String> repoTags,
                         @JsonProperty("Layers") List<String> layers) {
    }

    private DockerArchiveExporter() {
    }

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
        ImageManifest image = ImageJson.readManifest(OciArchiveExporter.readBlob(blobs, manifest));
        ImageConfig config = ImageJson.readConfig(OciArchiveExporter.readBlob(blobs, image.config()));
        if (config.diffIds().size() != image.layers().size()) {
            throw new IOException("image " + manifest.digest() + " has " + image.layers().size()
                    + " layers but its config lists " + config.diffIds().size() + " diff_ids");
        }
        List<String> layerPaths = image.layers().stream().map(OciArchiveExporter::blobPath).toList();
        ManifestEntry entry = new ManifestEntry(OciArchiveExporter.blobPath(image.config()),
                List.of(name.toString()), layerPaths);
        // "repositories" maps to the v1 id of the top layer; docker load only needs the name and tag to exist
        String top = config.diffIds().isEmpty() ? image.config().digest().hex() : config.diffIds().getLast().hex();
        Map<String, Map<String, String>> repositories = Map.of(name.repository(), Map.of(name.tag(), top));
        tar.directory("blobs");
        tar.directory("blobs/sha256");
        tar.blob(OciArchiveExporter.blobPath(image.config()), blobs, image.config().digest(), image.config().size());
        for (Descriptor layer : image.layers()) {
            tar.blob(OciArchiveExporter.blobPath(layer), blobs, layer.digest(), layer.size());
        }
        tar.bytes("manifest.json", json(List.of(entry)));
        tar.bytes("repositories", json(repositories));
    }

    private static byte[] json(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise docker-archive metadata", e);
        }
    }
}
