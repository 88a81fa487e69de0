package dev.stagefarm.coordinator.grpc;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes a stored image as a tar stream (OCI image layout or docker-archive). */
@FunctionalInterface
public interface ImageExporter {
  /**
   * @param format {@code oci} or {@code docker}
   * @param tags the names to record in the archive (may be empty)
   */
  void export(String manifestDigest, String format, List<String> tags, OutputStream out)
      throws IOException;

  /**
   * Writes the archive of {@link #export} into the file {@code dest} (created, or truncated), for a client in the
   * farm's own process (the one-shot's CLI, {@link ImageFileExport}): an exporter whose blobs are files has the
   * kernel copy them there instead of streaming them through gRPC chunks.
   */
  default void exportToFile(String manifestDigest, String format, List<String> tags, Path dest) throws IOException {
    try (OutputStream out = Files.newOutputStream(dest)) {
      export(manifestDigest, format, tags, out);
    }
  }

  /**
   * Writes images of different platforms as one OCI image layout tar whose image index lists each.
   *
   * @param tags the names to record in the archive (may be empty)
   */
  default void exportIndex(List<String> manifestDigests, List<String> tags, OutputStream out) throws IOException {
    throw new UnsupportedOperationException("this coordinator cannot export image indexes");
  }

  /**
   * Pushes images of different platforms as one multi-platform image: each manifest by digest, then
   * an OCI image index under each tag.
   *
   * @return the index's digest
   */
  default String pushIndex(List<String> manifestDigests, List<String> tags) throws IOException {
    throw new UnsupportedOperationException("this coordinator cannot push image indexes");
  }

  /** Pushes a multi-platform image ({@link #pushIndex}). */
  @FunctionalInterface
  interface IndexPusher {
    String pushIndex(List<String> manifestDigests, List<String> tags) throws IOException;
  }

  /** {@code exporter}, pushing image indexes with {@code pusher}. */
  static ImageExporter pushingIndexes(ImageExporter exporter, IndexPusher pusher) {
    return new ImageExporter() {
      @Override
      public void export(String manifestDigest, String format, List<String> tags, OutputStream out)
          throws IOException {
        exporter.export(manifestDigest, format, tags, out);
      }

      @Override
      public void exportToFile(String manifestDigest, String format, List<String> tags, Path dest)
          throws IOException {
        exporter.exportToFile(manifestDigest, format, tags, dest);
      }

      @Override
      public void exportIndex(List<String> manifestDigests, List<String> tags, OutputStream out) throws IOException {
        exporter.exportIndex(manifestDigests, tags, out);
      }

      @Override
      public String pushIndex(List<String> manifestDigests, List<String> tags) throws IOException {
        return pusher.pushIndex(manifestDigests, tags);
      }
    };
  }
}
