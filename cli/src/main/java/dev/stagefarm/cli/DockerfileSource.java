package dev.stagefarm.cli;

import dev.stagefarm.dockerfile.DockerfileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code -f} option of the commands that read a Dockerfile (a picocli mixin): reads the file
 * and turns frontend errors into one-line user errors naming it.
 */
final class DockerfileSource {

  @Option(
      names = {"-f", "--file"},
      defaultValue = "Dockerfile",
      description = "The Dockerfile (default: ${DEFAULT-VALUE}).")
  Path path;

  /** The path as the user gave it. */
  Path path() {
    return path;
  }

  /** The file's bytes. */
  byte[] read() {
    try {
      return Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw new UserError("cannot read Dockerfile " + path + ": no such file");
    } catch (IOException e) {
      throw new UserError("cannot read Dockerfile " + path + ": " + e.getMessage(), e);
    }
  }

  /** {@code error: PATH:LINE: problem}, the way BuildKit names a Dockerfile line. */
  UserError describe(DockerfileException e) {
    return new UserError(e.describe(path.toString()), e);
  }
}
