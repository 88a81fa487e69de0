package dev.stagefarm.coordinator.grpc;

import dev.stagefarm.coordinator.BuildCoordinator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

/**
 * A finished build's image archive written into a file by the farm's own process, for a client in that process: the
 * one-shot's CLI, which would otherwise receive the archive as gRPC chunks from itself and write them out (a 200 MiB
 * layer copied through Java arrays several times). Never for a client in another process: the local farm may run as
 * another user, and a path is the client's to open (docs/security.md). What {@code exportImage} answers, minus the
 * call: the same image, names and checks ({@link ImageExporter#exportToFile}).
 */
public final class ImageFileExport {
  private final Supplier<BuildCoordinator> coordinator;
  private final ImageExporter exporter;

  /** @param coordinator the active coordinator (throws while a standby) */
  public ImageFileExport(Supplier<BuildCoordinator> coordinator, ImageExporter exporter) {
    this.coordinator = coordinator;
    this.exporter = exporter;
  }

  /**
   * Writes build {@code buildId}'s image as an {@code oci} or {@code docker} archive into {@code dest} (created, or
   * truncated).
   *
   * @throws IOException when the build has no image (not finished or failed), or the export fails
   */
  public void write(String buildId, String format, Path dest) throws IOException {
    BuildCoordinator active;
    try {
      active = coordinator.get();
    } catch (IllegalStateException standby) {
      throw new IOException("exporting build " + buildId + ": " + standby.getMessage());
    }
    String digest = active.imageDigest(buildId)
        .orElseThrow(() -> new IOException("build " + buildId + " has no image (not finished or failed)"));
    if (!format.equals("oci") && !format.equals("docker")) {
      throw new IOException("unknown export format \"" + format + "\" (oci or docker)");
    }
    List<String> tags = active.request(buildId).<List<String>>map(r -> List.copyOf(r.getTagsList())).orElse(List.of());
    exporter.exportToFile(digest, format, tags, dest);
  }
}
