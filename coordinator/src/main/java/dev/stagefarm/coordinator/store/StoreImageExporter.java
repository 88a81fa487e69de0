package dev.stagefarm.coordinator.store;

import dev.stagefarm.coordinator.grpc.ImageExporter;
import dev.stagefarm.oci.BlobSource;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.export.DockerArchiveExporter;
import dev.stagefarm.oci.export.ImageRef;
import dev.stagefarm.oci.export.OciArchiveExporter;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
    write(manifestDigest, format, tags, new Archive() {
      @Override
      public void oci(BlobSource blobs, Descriptor manifest, ImageRef name) throws IOException {
        OciArchiveExporter.export(blobs, manifest, name, out);
      }

      @Override
      public void docker(BlobSource blobs, Descriptor manifest, ImageRef name) throws IOException {
        DockerArchiveExporter.export(blobs, manifest, name, out);
      }
    });
  }

  /**
   * Into the file: the layers a directory store holds are copied by the kernel ({@code copy_file_range}) and each
   * copy is read back and verified against its digest where it landed (ArchiveWriter), instead of passing through
   * the tar writer, gRPC chunks and the client's file write. The file is opened as {@code Files.newOutputStream}
   * opens it (created or truncated, links followed); a destination that is not a regular file (a pipe, a device)
   * is streamed to as before.
   */
  @Override
  public void exportToFile(String manifestDigest, String format, List<String> tags, Path dest) throws IOException {
    if (Files.exists(dest) && !Files.isRegularFile(dest)) {
      ImageExporter.super.exportToFile(manifestDigest, format, tags, dest);
      return;
    }
    try (FileChannel file = FileChannel.open(dest, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE, StandardOpenOption.READ)) {
      write(manifestDigest, format, tags, new Archive() {
        @Override
        public void oci(BlobSource blobs, Descriptor manifest, ImageRef name) throws IOException {
          OciArchiveExporter.export(blobs, manifest, name, file);
        }

        @Override
        public void docker(BlobSource blobs, Descriptor manifest, ImageRef name) throws IOException {
          DockerArchiveExporter.export(blobs, manifest, name, file);
        }
      });
    }
  }

  /** Where an export's archive goes: a stream or a file. */
  private interface Archive {
    void oci(BlobSource blobs, Descriptor manifest, ImageRef name) throws IOException;

    void docker(BlobSource blobs, Descriptor manifest, ImageRef name) throws IOException;
  }

  private void write(String manifestDigest, String format, List<String> tags, Archive archive) throws IOException {
    Digest digest = Digest.parse(manifestDigest);
    // read (and verified against its digest) once: its size is the descriptor's, and the exporter reads it from here
    byte[] manifestBytes = store.readAllBytes(Namespace.BLOBS, digest);
    Descriptor manifest = new Descriptor(MediaTypes.OCI_MANIFEST, digest, manifestBytes.length);
    if (!format.equals("oci") && !format.equals("docker")) {
      throw new IOException("unknown export format \"" + format + "\" (oci or docker)");
    }
    ImageManifest image = ImageJson.readManifest(manifestBytes);
    List<Descriptor> parts = new java.util.ArrayList<>();
    parts.add(image.config());
    parts.addAll(image.layers());
    ImageRef name = ImageRef.parse(tags.isEmpty() ? UNNAMED : tags.get(0));
    try (PrefetchedBlobs prefetched = new PrefetchedBlobs(store, parts)) {
      BlobSource blobs = new BlobSource() {
        @Override
        public InputStream open(Digest blob) throws IOException {
          return blob.equals(digest) ? new ByteArrayInputStream(manifestBytes) : prefetched.open(blob);
        }

        /** The manifest was verified when read, the rest come from the store (PrefetchedBlobs#verifiesAtEnd). */
        @Override
        public boolean verifiesAtEnd() {
          return true;
        }

        @Override
        public FileChannel openFile(Digest blob) throws IOException {
          return blob.equals(digest) ? null : prefetched.openFile(blob);
        }
      };
      if (format.equals("oci")) {
        archive.oci(blobs, manifest, name);
      } else {
        archive.docker(blobs, manifest, name);
      }
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
