package dev.stagefarm.dockerfile.parser;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** BuildKit's splitCommand/extractBuilderFlags on the edge cases of flag words. */
class CommandSplitterTest {

  private static CommandSplitter.Split split(String line, int escape) {
    return CommandSplitter.split(line, escape);
  }

  @Test
  void keywordIsKeptAsWrittenAndArgsAreTrimmed() {
    assertThat(split("  Run\t  echo hi  ", '\\'))
        .isEqualTo(new CommandSplitter.Split("Run", List.of(), "echo hi"));
  }

  @Test
  void quotesAreRemovedAndEscapesTakeTheNextCharacter() {
    CommandSplitter.Split s = split("COPY --a=\"x y\" --b='q\\'' --c=\\\"z /s /d", '\\');

    assertThat(s.flags()).containsExactly("--a=x y", "--b=q'", "--c=\"z");
    assertThat(s.args()).isEqualTo("/s /d");
  }

  @Test
  void backtickIsTheEscapeUnderTheEscapeDirective() {
    assertThat(split("COPY --a=`\" c:\\x", '`').flags()).containsExactly("--a=\"");
  }

  @Test
  void flagsAtTheEndOfTheLineLeaveNoArguments() {
    CommandSplitter.Split s = split("RUN --network=none --", '\\');

    assertThat(s.flags()).containsExactly("--network=none");
    assertThat(s.args()).isEmpty();
  }

  @Test
  void trailingEscapeIsDroppedEvenInsideAQuote() {
    assertThat(split("RUN --a=\"b\\", '\\').flags()).containsExactly("--a=b");
    assertThat(split("RUN --a=b\\", '\\').flags()).containsExactly("--a=b");
  }

  @Test
  void emptyQuotedFlagValueIsKept() {
    assertThat(split("RUN --a=\"\" --b='' x", '\\').flags()).containsExactly("--a=", "--b=");
  }

  @Test
  void aSingleDashIsAnArgument() {
    CommandSplitter.Split s = split("RUN -x --y", '\\');

    assertThat(s.flags()).isEmpty();
    assertThat(s.args()).isEqualTo("-x --y");
  }
}
