package dev.stagefarm.dockerfile.parser;

import static dev.stagefarm.dockerfile.parser.Parsing.instructions;
import static dev.stagefarm.dockerfile.parser.Parsing.parse;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Parser directives as the parser applies them (escape) and reports them. */
class ParserDirectivesTest {

  @Test
  void directivesAreReportedWithTheirLines() {
    ParseResult r = parse("# syntax=docker/dockerfile:1\n#check=skip=all\n# escape=`\nFROM x\n");

    assertThat(r.directives().all()).containsExactly(
        new Directive("syntax", "docker/dockerfile:1", 1),
        new Directive("check", "skip=all", 2),
        new Directive("escape", "`", 3));
    assertThat(r.directives().syntax()).contains("docker/dockerfile:1");
    assertThat(r.escapeToken()).isEqualTo('`');
  }

  @Test
  void backtickEscapeContinuesLinesAndBackslashIsLiteral() {
    Node run = instructions("# escape=`\nFROM x\nRUN dir c:\\ `\n  /s\n").get(1);

    assertThat(run.values()).containsExactly("dir c:\\   /s");
    assertThat(run.endLine()).isEqualTo(4);
  }

  @Test
  void directiveAfterCommentIsAnOrdinaryComment() {
    ParseResult r = parse("# hello\n# escape=`\nFROM x\nRUN a \\\n b\n");

    assertThat(r.directives().all()).isEmpty();
    assertThat(r.escapeToken()).isEqualTo('\\');
    assertThat(r.ast().children().get(1).values()).containsExactly("a  b");
  }

  @Test
  void byteOrderMarkIsIgnored() {
    byte[] withBom = "\uFEFF# syntax=x\nFROM scratch\n".getBytes(StandardCharsets.UTF_8);

    ParseResult r = DockerfileParser.parse(withBom);

    assertThat(r.directives().syntax()).contains("x");
    assertThat(r.ast().dump()).isEqualTo("(from \"scratch\")");
  }
}
