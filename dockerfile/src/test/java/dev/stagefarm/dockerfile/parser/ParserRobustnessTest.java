package dev.stagefarm.dockerfile.parser;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.dockerfile.DockerfileException;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Bad input must end in a {@link DockerfileException}, never in another exception: random
 * Dockerfile-like text built from the pieces the parser treats specially (fixed seed, so a
 * failure reproduces).
 */
class ParserRobustnessTest {
  private static final List<String> PIECES = List.of(
      "FROM ", "RUN ", "COPY ", "ADD ", "ENV ", "LABEL ", "ARG ", "ONBUILD ", "HEALTHCHECK ",
      "CMD ", "SHELL ", "VOLUME ", "USER ", "FRM ", "run ", "--mount=type=cache ", "-- ",
      "\"", "'", "\\", "`", "\\\n", "`\n", "\n", "\r\n", " ", "\t", "\u000b", "\u00a0", "#", "# ",
      "# escape=`\n", "# syntax=x\n", "<<", "<<-", "3<<", "EOF", "\nEOF\n", "\tEOF\n", "$", "${",
      "}", ":-", "[", "]", ",", "{", "\"a\"", "1", "true", "null", "=", "a=b ", "é", "😀", "\u0000");

  @Test
  void randomInputParsesOrFailsWithADockerfileException() {
    Random random = new Random(20_241_128L);
    int parsed = 0;
    int rejected = 0;
    for (int i = 0; i < 5_000; i++) {
      StringBuilder text = new StringBuilder();
      int length = 1 + random.nextInt(40);
      for (int j = 0; j < length; j++) {
        text.append(PIECES.get(random.nextInt(PIECES.size())));
      }
      String input = text.toString();
      try {
        ParseResult result = DockerfileParser.parse(input);
        // Values are quoted, so the dump has exactly one line per instruction.
        assertThat(result.ast().dump().split("\n", -1))
            .as("dump of %s", input).hasSize(result.ast().children().size());
        parsed++;
      } catch (DockerfileException e) {
        assertThat(e.problem()).as("problem for %s", input).isNotBlank();
        rejected++;
      }
    }
    // Both outcomes must occur, or the generator is not exercising the parser.
    assertThat(parsed).isGreaterThan(100);
    assertThat(rejected).isGreaterThan(100);
  }
}
