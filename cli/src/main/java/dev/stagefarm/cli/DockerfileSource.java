package dev.stagefarm.cli;

import dev.stagefarm.dockerfile.DockerfileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads the Dockerfile named by {@code -f} and turns frontend errors into one-line user errors. */
final class DockerfileSource {

  private final Path path;

  DockerfileSource(Path path) {
    this.path = path;
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
