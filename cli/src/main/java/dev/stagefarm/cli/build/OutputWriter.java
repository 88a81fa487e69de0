package dev.stagefarm.cli.build;

import dev.stagefarm.cli.ExitCodes;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a finished build's file outputs ({@code -o type=local|tar|oci|docker}, {@code --load})
 * from what the farm exports: OCI and docker archives as they come, the filesystem ones unpacked
 * from the OCI archive on this machine.
 */
public final class OutputWriter {
  private final BuildClient client;
  private final String buildId;
  private final PrintStream stdout;
  private final dev.stagefarm.cli.RunContext run;

  public OutputWriter(BuildClient client, String buildId, PrintStream stdout) {
    this(client, buildId, stdout, dev.stagefarm.cli.RunContext.process());
  }

  /** @param run whose directory a relative {@code dest} is in, whose environment {@code docker load} gets */
  public OutputWriter(BuildClient client, String buildId, PrintStream stdout, dev.stagefarm.cli.RunContext run) {
    this.client = client;
    this.buildId = buildId;
    this.stdout = stdout;
    this.run = run;
  }

  /** Writes one output; returns where it went, for the summary line. */
  public String write(OutputSpec output) {
    String dest = output.dest().orElseThrow();
    try {
      switch (output.type()) {
        case OCI, DOCKER -> {
          String format = output.type() == OutputSpec.Type.OCI ? "oci" : "docker";
          if (output.toStdout()) {
            client.export(buildId, format, stdout);
            stdout.flush();
          } else {
            client.exportToFile(buildId, format, run.path(dest));
          }
        }
        case LOCAL -> inScratch(scratch -> FilesystemOutput.unpack(ociArchive(scratch), run.path(dest), scratch));
        case TAR -> inScratch(scratch -> {
          Path rootfs = Files.createDirectory(scratch.resolve("rootfs"));
          FilesystemOutput.unpack(ociArchive(scratch), rootfs, scratch);
          if (output.toStdout()) {
            FilesystemOutput.writeTar(rootfs, stdout);
          } else {
            try (OutputStream out = Files.newOutputStream(run.path(dest))) {
              FilesystemOutput.writeTar(rootfs, out);
            }
          }
        });
        default -> throw new IllegalArgumentException("not a file output: " + output);
      }
    } catch (IOException e) {
      throw ExitCodes.farm("writing " + (output.toStdout() ? "standard output" : dest) + " (" + output
          + ") failed: " + e.getMessage());
    }
    return (output.toStdout() ? "standard output" : dest) + " (" + output.type().name().toLowerCase() + ")";
  }

  /** {@code --load}: the docker archive into the Docker engine. */
  public String load() {
    try {
      return withScratch(scratch -> {
        Path archive = scratch.resolve("image.tar");
        client.exportToFile(buildId, "docker", archive);
        return ImageLoader.load(archive, run.env());
      });
    } catch (IOException e) {
      throw ExitCodes.farm("--load: exporting the image failed: " + e.getMessage());
    }
  }

  private Path ociArchive(Path scratch) throws IOException {
    Path archive = scratch.resolve("image.oci.tar");
    client.exportToFile(buildId, "oci", archive);
    return archive;
  }

  private interface ScratchWork<T> {
    T run(Path scratch) throws IOException;
  }

  private interface ScratchAction {
    void run(Path scratch) throws IOException;
  }

  private static void inScratch(ScratchAction action) throws IOException {
    withScratch(scratch -> {
      action.run(scratch);
      return null;
    });
  }

  private static <T> T withScratch(ScratchWork<T> work) throws IOException {
    Path scratch = Files.createTempDirectory("stagefarm-output-");
    try {
      return work.run(scratch);
    } finally {
      FilesystemOutput.deleteTree(scratch);
    }
  }
}
