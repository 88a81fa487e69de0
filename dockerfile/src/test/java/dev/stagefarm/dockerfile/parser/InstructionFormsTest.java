package dev.stagefarm.dockerfile.parser;

import static dev.stagefarm.dockerfile.parser.Parsing.dump;
import static dev.stagefarm.dockerfile.parser.Parsing.instructions;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How instruction lines become nodes, beyond what the BuildKit corpus pins down. */
class InstructionFormsTest {

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
