package dev.stagefarm.coordinator.store;

import dev.stagefarm.coordinator.grpc.ImageExporter;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.export.DockerArchiveExporter;
import dev.stagefarm.oci.export.ImageRef;
import dev.stagefarm.oci.export.OciArchiveExporter;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;

/** Exports a stored image as an OCI layout tar or a docker-archive tar, straight from the store. */
public final class StoreImageExporter implements ImageExporter {
  /** The name an image gets in an archive when the build gave no {@code -t}. */
  static final String UNNAMED = "stagefarm/image:latest";

  private final BlobStore store;

  public StoreImageExporter(BlobStore store) {
    this.store = store;
  }

  @Override
  public void export(String manifestDigest, String format, List<String> tags, OutputStream out) throws IOException {
    Descriptor manifest = manifest(manifestDigest);
    ImageRef name = ImageRef.parse(tags.isEmpty() ? UNNAMED : tags.get(0));
    switch (format) {
      case "oci" -> OciArchiveExporter.export(store, manifest, name, out);
      case "docker" -> DockerArchiveExporter.export(store, manifest, name, out);
      default -> throw new IOException("unknown export format \"" + format + "\" (oci or docker)");
    }
  }

  @Override
  public void exportIndex(List<String> manifestDigests, List<String> tags, OutputStream out) throws IOException {
    List<Descriptor> manifests = new java.util.ArrayList<>();
    for (String digest : manifestDigests) {
      manifests.add(manifest(digest));
    }
    OciArchiveExporter.exportIndex(store, manifests, ImageRef.parse(tags.isEmpty() ? UNNAMED : tags.get(0)), out);
  }

  private Descriptor manifest(String manifestDigest) throws IOException {
    Digest digest = Digest.parse(manifestDigest);
    long size = store.readAllBytes(Namespace.BLOBS, digest).length;
    return new Descriptor(MediaTypes.OCI_MANIFEST, digest, size);
  }
}
