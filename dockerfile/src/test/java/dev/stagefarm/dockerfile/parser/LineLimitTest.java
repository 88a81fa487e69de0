package dev.stagefarm.dockerfile.parser;

import static dev.stagefarm.dockerfile.parser.Parsing.failure;
import static dev.stagefarm.dockerfile.parser.Parsing.instructions;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.dockerfile.DockerfileException;
import org.junit.jupiter.api.Test;

/** The 65,535-byte physical line limit of BuildKit's line scanner. */
class LineLimitTest {

  private static final String LIMIT_MESSAGE =
      "dockerfile line greater than max allowed size of 65535";

  @Test
  void lineOfExactly65535BytesIsAccepted() {
    String label = "LABEL a=" + "x".repeat(65_535 - "LABEL a=".length());

    Node node = instructions("FROM scratch\n" + label + "\n").get(1);

    assertThat(node.values()).containsExactly("a", "x".repeat(65_535 - 8), "=");
  }

  @Test
  void lineOf65536BytesFailsNamingItsLine() {
    String label = "LABEL a=" + "x".repeat(65_536 - "LABEL a=".length());

    DockerfileException e = failure("FROM scratch\n\n" + label + "\nRUN true\n");

    assertThat(e.problem()).isEqualTo(LIMIT_MESSAGE);
    assertThat(e.line()).isEqualTo(3);
  }

  @Test
  void lastLineWithoutNewlineHasTheSameLimit() {
    String ok = "RUN " + "y".repeat(65_535 - 4);
    String tooLong = "RUN " + "y".repeat(65_536 - 4);

    assertThat(instructions("FROM scratch\n" + ok)).hasSize(2);
    assertThat(failure("FROM scratch\n" + tooLong).problem()).isEqualTo(LIMIT_MESSAGE);
  }

  @Test
  void limitCountsUtf8BytesNotCharacters() {
    String twoByteChars = "é".repeat(32_768); // 65,536 bytes in 32,768 chars

    assertThat(failure("FROM scratch\nRUN " + twoByteChars).problem()).isEqualTo(LIMIT_MESSAGE);
    assertThat(instructions("FROM scratch\nRUN " + "é".repeat(32_765))).hasSize(2);
  }

  @Test
  void carriageReturnCountsTowardsTheLimit() {
    String line = "RUN " + "z".repeat(65_535 - 4);

    assertThat(instructions("FROM scratch\n" + line + "\n")).hasSize(2);
    assertThat(failure("FROM scratch\n" + line + "\r\n").problem()).isEqualTo(LIMIT_MESSAGE);
  }

  @Test
  void heredocBodyLinesHaveTheLimitToo() {
    String body = "b".repeat(65_536);

    DockerfileException e = failure("FROM scratch\nRUN <<EOF\n" + body + "\nEOF\n");

    assertThat(e.problem()).isEqualTo(LIMIT_MESSAGE);
    assertThat(e.line()).isEqualTo(3);
  }
}
