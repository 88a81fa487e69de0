package dev.stagefarm.dockerfile.parser;

import dev.stagefarm.dockerfile.DockerfileException;
import java.nio.charset.StandardCharsets;

/** Parses a Dockerfile into BuildKit's AST. Work in progress: the body follows shortly. */
public final class DockerfileParser {

  private DockerfileParser() {}

  /** Parses Dockerfile text; throws {@link DockerfileException} naming the line on bad input. */
  public static ParseResult parse(String dockerfile) {
    throw new DockerfileException(0, "parser not implemented yet");
  }

  /** Parses UTF-8 bytes (a leading BOM is ignored). */
  public static ParseResult parse(byte[] dockerfile) {
    return parse(new String(dockerfile, StandardCharsets.UTF_8));
  }
}
