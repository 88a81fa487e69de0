package dev.stagefarm.dockerfile.parser;

import static dev.stagefarm.dockerfile.parser.Parsing.failure;
import static dev.stagefarm.dockerfile.parser.Parsing.instructions;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.dockerfile.DockerfileException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Parse errors carry BuildKit's message and the 1-based line they are about. */
class ParseErrorsTest {

  @Test
  void envWithoutValueNamesTheInstructionsFirstLine() {
    DockerfileException e = failure("FROM scratch\n\nENV \\\n  ONLYKEY\n");

    assertThat(e.line()).isEqualTo(3);
    assertThat(e.problem()).isEqualTo("ENV must have two arguments");
    assertThat(e.describe("Dockerfile")).isEqualTo("Dockerfile:3: ENV must have two arguments");
  }

  @Test
  void labelWithoutValueSaysLabel() {
    assertThat(failure("FROM scratch\nlabel onlykey\n").problem())
        .isEqualTo("LABEL must have two arguments");
  }

  @Test
  void mixedEnvFormsNameTheWordWithoutEquals() {
    DockerfileException e = failure("FROM scratch\nENV a=1 b\n");

    assertThat(e.line()).isEqualTo(2);
    assertThat(e.problem())
        .isEqualTo("Syntax error - can't find = in \"b\". Must be of the form: name=value");
  }

  @Test
  void fileWithoutInstructions() {
    assertThat(failure("# just a comment\n\n   \n").problem())
        .isEqualTo("file with no instructions");
    assertThat(failure("").problem()).isEqualTo("file with no instructions");
  }

  @Test
  void repeatedDirectiveNamesItsLine() {
    DockerfileException e = failure("# syntax=a\n# SYNTAX=b\nFROM scratch\n");

    assertThat(e.line()).isEqualTo(2);
    assertThat(e.problem()).isEqualTo("only one syntax parser directive can be used");
  }

  @Test
  void invalidEscapeTokenNamesItsLine() {
    DockerfileException e = failure("# check=skip=all\n# escape=x\nFROM scratch\n");

    assertThat(e.line()).isEqualTo(2);
    assertThat(e.problem()).isEqualTo("invalid escape token 'x' does not match ` or \\");
  }

  @Test
  void unterminatedHeredocNamesTheInstructionAndTheTerminator() {
    DockerfileException e = failure("FROM scratch\nRUN <<EOT\necho hi\n");

    assertThat(e.line()).isEqualTo(2);
    assertThat(e.problem()).startsWith("unterminated heredoc").contains("EOT");
  }

  @Test
  void lineThatCannotBeLexedOpensNoHeredoc() {
    // BuildKit ignores lexing errors when looking for heredocs: the quote never closes, so
    // there is no heredoc and the would-be body is read as instructions.
    List<Node> nodes = instructions("FROM scratch\nCOPY <<'EOF /x\nEOF\n");

    assertThat(nodes).hasSize(3);
    assertThat(nodes.get(1).heredocs()).isEmpty();
    assertThat(nodes.get(2).dump()).isEqualTo("eof \"\"");
  }

  @Test
  void absurdOnbuildNestingIsAnErrorNotACrash() {
    String onbuilds = "ONBUILD \\\n".repeat(InstructionBuilder.MAX_NESTING + 1) + "RUN true\n";

    DockerfileException e = failure("FROM scratch\n" + onbuilds);

    assertThat(e.line()).isEqualTo(2);
    assertThat(e.problem()).isEqualTo("instruction nested too deeply to parse");
  }

  @Test
  void nestedOnbuildWithinTheBoundParsesLikeBuildKit() {
    Node node = instructions("ONBUILD ONBUILD RUN true\n").get(0);

    assertThat(node.dump()).isEqualTo("onbuild (onbuild (run \"true\"))");
  }

  @Test
  void absurdSubstitutionNestingOnAHeredocLineIsAnErrorNotACrash() {
    int depth = 100_000;
    String nested = "${a:-".repeat(depth) + "x" + "}".repeat(depth);
    String run = "RUN <<EOF " + nested.replaceAll("(.{60000})", "$1\\\n") + "\nEOF\n";

    DockerfileException e = failure("FROM scratch\n" + run);

    assertThat(e.line()).isEqualTo(2);
    assertThat(e.problem()).isEqualTo("variable expansion nested deeper than 100 levels");
  }
}
