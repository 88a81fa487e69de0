package dev.stagefarm.cli.build;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A coordinator in this process writing a finished build's image archive into a file itself
 * ({@link CoordinatorRoute#localImageFiles}): the one-shot's embedded farm, whose layers the kernel
 * copies from its store into the file (and verifies there) instead of sending them to its own CLI
 * as gRPC chunks.
 */
@FunctionalInterface
public interface LocalImageFiles {
  /**
   * Writes build {@code buildId}'s image as an {@code oci} or {@code docker} archive into {@code dest}
   * (created, or truncated).
   */
  void write(String buildId, String format, Path dest) throws IOException;
}
