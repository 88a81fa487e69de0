package dev.stagefarm.coordinator.grpc;

import java.io.IOException;
import java.io.OutputStream;
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
   * Writes images of different platforms as one OCI image layout tar whose image index lists each.
   *
   * @param tags the names to record in the archive (may be empty)
   */
  default void exportIndex(List<String> manifestDigests, List<String> tags, OutputStream out) throws IOException {
    throw new UnsupportedOperationException("this coordinator cannot export image indexes");
  }
}
