package dev.stagefarm.dockerfile.parser;

import dev.stagefarm.dockerfile.DockerfileException;
import java.util.List;

/** Short forms for the parser unit tests. */
final class Parsing {
  private Parsing() {}

  static ParseResult parse(String dockerfile) {
    return DockerfileParser.parse(dockerfile);
  }

  static List<Node> instructions(String dockerfile) {
    return parse(dockerfile).ast().children();
  }

  static String dump(String dockerfile) {
    return parse(dockerfile).ast().dump();
  }

  /** The exception parsing {@code dockerfile} throws; fails the test when it parses. */
  static DockerfileException failure(String dockerfile) {
    try {
      parse(dockerfile);
    } catch (DockerfileException e) {
      return e;
    }
    throw new AssertionError("expected a DockerfileException for:\n" + dockerfile);
  }
}
