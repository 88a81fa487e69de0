package dev.stagefarm.dockerfile.parser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.dockerfile.DockerfileException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Parser behaviour the BuildKit corpus does not pin down: limits, error lines, edge forms. */
class DockerfileParserTest {

  private static ParseResult parse(String dockerfile) {
    return DockerfileParser.parse(dockerfile);
  }

  private static List<Node> instructions(String dockerfile) {
    return parse(dockerfile).ast().children();
  }

  private static String dump(String dockerfile) {
    return parse(dockerfile).ast().dump();
  }

  private static DockerfileException failure(String dockerfile) {
    try {
      parse(dockerfile);
    } catch (DockerfileException e) {
      return e;
    }
    throw new AssertionError("expected a DockerfileException for:\n" + dockerfile);
  }

  @Nested
  class LineLimit {
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

  @Nested
  class Errors {
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
  }

  @Nested
  class Directives {
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

  @Nested
  class Forms {
    @Test
    void crlfLineEndingsAreStripped() {
      assertThat(dump("FROM a\r\nRUN b \\\r\n  c\r\n")).isEqualTo("(from \"a\")\n(run \"b   c\")");
    }

    @Test
    void flagsLoseQuotesAndStopAtDoubleDash() {
      Node copy = instructions("COPY --from=\"build stage\" --chown=a:b -- --notaflag /d\n").get(0);

      assertThat(copy.flags()).containsExactly("--from=build stage", "--chown=a:b");
      assertThat(copy.values()).containsExactly("--notaflag", "/d");
    }

    @Test
    void unknownKeywordKeepsFlagsAndHasOneEmptyArgument() {
      Node node = instructions("FRM --x=1 busybox\n").get(0);

      assertThat(node.value()).isEqualTo("FRM");
      assertThat(node.flags()).containsExactly("--x=1");
      assertThat(node.dump()).isEqualTo("frm [\"--x=1\"] \"\"");
    }

    @Test
    void execFormIsMarkedJsonAndShellFormIsNot() {
      List<Node> nodes = instructions("CMD [\"a\", \"b\"]\nCMD a b\nCMD []\nCMD [\"a\" \n");

      assertThat(nodes).extracting(Node::isJson).containsExactly(true, false, true, false);
      assertThat(nodes.get(2).values()).isEmpty();
      assertThat(nodes.get(3).values()).containsExactly("[\"a\"");
    }

    @Test
    void healthcheckKeepsTypeThenCommand() {
      List<Node> nodes = instructions(
          "HEALTHCHECK --interval=5s CMD [\"curl\", \"-f\", \"x\"]\nHEALTHCHECK NONE\n");

      assertThat(nodes.get(0).flags()).containsExactly("--interval=5s");
      assertThat(nodes.get(0).values()).containsExactly("CMD", "curl", "-f", "x");
      assertThat(nodes.get(0).isJson()).isTrue();
      assertThat(nodes.get(1).values()).containsExactly("NONE");
    }

    @Test
    void onbuildWrapsTheTriggerAndCarriesItsHeredoc() {
      Node onbuild = instructions("ONBUILD RUN <<EOF\necho hi\nEOF\n").get(0);

      assertThat(onbuild.dump()).isEqualTo("onbuild (run \"<<EOF\")");
      assertThat(onbuild.next().children().get(0).value()).isEqualTo("RUN");
      assertThat(onbuild.heredocs()).containsExactly(new Heredoc("EOF", "echo hi\n", true, false, 0));
      assertThat(onbuild.endLine()).isEqualTo(3);
    }

    @Test
    void heredocKeepsCrlfAndSpansBodyLines() {
      Node run = instructions("FROM x\nRUN <<EOF\r\nline\r\nEOF\r\nUSER me\n").get(1);

      assertThat(run.heredocs()).containsExactly(new Heredoc("EOF", "line\r\n", true, false, 0));
      assertThat(List.of(run.startLine(), run.endLine())).containsExactly(2, 4);
    }

    @Test
    void heredocOnlyForRunCopyAdd() {
      List<Node> nodes = instructions("FROM x\nUSER <<EOF\nEOF\n");

      assertThat(nodes).hasSize(3);
      assertThat(nodes.get(1).heredocs()).isEmpty();
      assertThat(nodes.get(2).value()).isEqualTo("EOF");
    }

    @Test
    void envBothFormsAndArgWordsKeepQuotes() {
      assertThat(dump("ENV a b c\nENV x=\"1 2\" y=3\nARG n=\"v w\" m\n")).isEqualTo(
          "(env \"a\" \"b c\" \"\")\n"
              + "(env \"x\" \"\\\"1 2\\\"\" \"=\" \"y\" \"3\" \"=\")\n"
              + "(arg \"n=\\\"v w\\\"\" \"m\")");
    }

    @Test
    void continuationAtEndOfFileEndsTheInstruction() {
      Node run = instructions("FROM x\nRUN a \\").get(1);

      assertThat(run.values()).containsExactly("a");
      assertThat(run.endLine()).isEqualTo(2);
    }

    @Test
    void originalIsTheJoinedLogicalLineAndCommentsAreKept() {
      Node run = instructions("FROM x\n# first\n# second\nRUN a \\\n# inside\n  b\n").get(1);

      assertThat(run.original()).isEqualTo("RUN a   b");
      assertThat(run.comments()).containsExactly("first", "second");
      assertThat(List.of(run.startLine(), run.endLine())).containsExactly(4, 6);
    }

    @Test
    void keywordCaseIsKeptButDumpedLowerCase() {
      Node node = instructions("fRoM alpine AS Build\n").get(0);

      assertThat(node.value()).isEqualTo("fRoM");
      assertThat(node.dump()).isEqualTo("from \"alpine\" \"AS\" \"Build\"");
    }
  }
}
