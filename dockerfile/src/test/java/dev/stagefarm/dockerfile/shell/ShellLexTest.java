package dev.stagefarm.dockerfile.shell;

import dev.stagefarm.dockerfile.internal.GoText;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What BuildKit's lexer does that its own test data does not cover. */
class ShellLexTest {
  private static final ShellLex LEX = new ShellLex('\\');
  private static final Map<String, String> ENV =
      Map.of("PWD", "/home", "EMPTY", "", "FILE", "a.b.c", "FOO", "foo", "SPACED", "x  y");

  @Nested
  class BacktickEscapeToken {
    private final ShellLex lex = new ShellLex('`');

    @Test
    void backtickEscapesOutsideQuotes() {
      assertThat(lex.processWord("he`$PWD", ENV)).isEqualTo("he$PWD");
      assertThat(lex.processWord("a``b", ENV)).isEqualTo("a`b");
      assertThat(lex.processWord("a` b", ENV)).isEqualTo("a b");
    }

    @Test
    void backslashIsAnOrdinaryCharacter() {
      assertThat(lex.processWord("C:\\Windows\\$PWD", ENV)).isEqualTo("C:\\Windows\\/home");
    }

    @Test
    void insideDoubleQuotesBacktickEscapesOnlyQuoteDollarAndItself() {
      assertThat(lex.processWord("\"a`\"b`$c``d`te\"", ENV)).isEqualTo("a\"b$c`d`te");
    }

    @Test
    void escapedSpaceDoesNotSplit() {
      assertThat(lex.processWords("a` b c", ENV)).containsExactly("a b", "c");
    }
  }

  @Nested
  class Options {
    @Test
    void rawQuotesKeepsQuotesButStillGroupsWords() {
      ShellLex lex = LEX.withRawQuotes(true);
      assertThat(lex.processWord("'a $PWD'\"$PWD\"", ENV)).isEqualTo("'a $PWD'\"/home\"");
      assertThat(lex.processWords("'a b' c", ENV)).containsExactly("'a b'", "c");
    }

    @Test
    void rawEscapesKeepsEscapeTokens() {
      ShellLex lex = LEX.withRawEscapes(true);
      assertThat(lex.processWord("a\\ b\\$PWD", ENV)).isEqualTo("a\\ b\\$PWD");
      assertThat(lex.processWord("\"a\\\"b\"", ENV)).isEqualTo("a\\\"b");
      // BuildKit writes the kept escape and then the unescapable escape itself: doubled.
      assertThat(lex.processWord("\"a\\tb\"", ENV)).isEqualTo("a\\\\tb");
      assertThat(lex.processWords("a\\ b c", ENV)).containsExactly("a\\ b", "c");
    }

    @Test
    void skipUnsetEnvLeavesUnsetReferencesAsWritten() {
      ShellLex lex = LEX.withSkipUnsetEnv(true);
      assertThat(lex.processWord("$X ${Y} ${Z:-d$PWD} ${W/a/b} $PWD", ENV))
          .isEqualTo("$X ${Y} ${Z:-d/home} ${W/a/b} /home");
      assertThat(lex.processWord("${Q?must be set}", ENV)).isEqualTo("${Q?must be set}");
    }

    @Test
    void skipProcessQuotesTreatsQuotesAsText() {
      assertThat(LEX.withSkipProcessQuotes(true).processWord("'$PWD' \"a\"", ENV))
          .isEqualTo("'/home' \"a\"");
    }

    @Test
    void withMethodsReturnChangedCopies() {
      ShellLex raw = LEX.withRawQuotes(true).withRawEscapes(true).withSkipUnsetEnv(true);
      assertThat(raw).isNotSameAs(LEX);
      assertThat(LEX.rawQuotes() || LEX.rawEscapes() || LEX.skipUnsetEnv()).isFalse();
      assertThat(raw.rawQuotes() && raw.rawEscapes() && raw.skipUnsetEnv()).isTrue();
      assertThat(raw.escapeToken()).isEqualTo('\\');
    }
  }

  @Nested
  class Patterns {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
        "${FILE%.*}      | a.b",
        "${FILE%%.*}     | a",
        "${FILE#*.}      | b.c",
        "${FILE##*.}     | c",
        "${FILE#?.}      | b.c",
        "${FILE%x}       | a.b.c",
        "${FILE/./-}     | a-b.c",
        "${FILE//./-}    | a-b-c",
        "${FILE//[.]/-}  | a.b.c",
        "${FILE/#a/z}    | a.b.c",
        "${FOO//*/X}     | X",
        "${FOO//o/'[$0]'} | f[o][o]",
        "${FOO/o/'[$0]'} | f[$0]o",
        "${FOO//o/'<$$>'} | f<$><$>",
        "${FOO//o/'$1${x}$'} | f$$",
        "${FOO//$EMPTY/-} | -f-o-o-",
        "${FOO/$EMPTY/-} | -foo",
    })
    void matchLikeBuildKit(String word, String expected) {
      assertThat(LEX.processWord(word, ENV)).isEqualTo(expected);
    }

    @Test
    void bracketsAreLiteral() {
      Map<String, String> env = Map.of("V", "[ab]x", "W", "ax");
      assertThat(LEX.processWord("${V#[ab]} ${W#[ab]}", env)).isEqualTo("x ax");
    }

    @Test
    void escapedClosingBraceAndSlashAreLiteral() {
      Map<String, String> env = Map.of("V", "}a/b}");
      assertThat(LEX.processWord("${V#\\}}", env)).isEqualTo("a/b}");
      assertThat(LEX.processWord("${V//\\//+}", env)).isEqualTo("}a+b}");
    }

    @Test
    void charactersOutsideTheBasicPlaneStayWhole() {
      Map<String, String> env = Map.of("V", "😀x😀");
      assertThat(LEX.processWord("${V%?} ${V#?} ${V//?/.}", env)).isEqualTo("😀x x😀 ...");
    }
  }

  @Nested
  class Errors {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
        "${PWD            | syntax error: missing '}'",
        "${PWD:-x         | syntax error: missing '}'",
        "${PWD:           | syntax error: missing '}'",
        "${               | syntax error: missing '}'",
        "${}              | syntax error: bad substitution",
        "${:}             | syntax error: bad substitution",
        "${{a}            | syntax error: bad substitution",
        "${.}             | unsupported modifier (.) in substitution",
        "${PWD:=x}        | unsupported modifier (:=) in substitution",
        "${PWD=x}         | unsupported modifier (=) in substitution",
        "${PWD:#x}        | unsupported modifier (:#) in substitution",
        "${PWD:%%x}       | unsupported modifier (:%) in substitution",
        "${PWD//x}        | syntax error: missing '/' in ${}",
        "~'abc~           | unexpected end of statement while looking for matching single-quote",
        "~\"abc~          | unexpected end of statement while looking for matching double-quote",
        "${X?}            | X: is not allowed to be unset",
        "${EMPTY:?}       | EMPTY: is not allowed to be empty",
        "${X:?say $PWD}   | X: say /home",
        "${PWD#\\x}       | invalid pattern (\\x) in substitution: invalid escape '\\x'",
    })
    void reportBuildKitsReason(String word, String reason) {
      assertThatThrownBy(() -> LEX.processWord(word, ENV))
          .isInstanceOfSatisfying(ShellExpansionException.class, e -> {
            assertThat(e.reason()).isEqualTo(reason);
            assertThat(e.word()).isEqualTo(word);
            assertThat(e.getMessage()).isEqualTo("failed to process " + GoText.quote(word) + ": "
                + reason);
          });
    }

    @Test
    void nestingUpToTheLimitExpandsAndDeeperIsAClearErrorNotAStackOverflow() throws Exception {
      assertThat(LEX.processWord(nested(WordExpansion.MAX_NESTING), ENV)).isEqualTo("deep");
      // a hostile depth, on a thread with a small stack as a server's request thread may have
      String hostile = nested(20_000);
      Throwable[] thrown = new Throwable[1];
      Thread small = new Thread(null, () -> {
        try {
          LEX.processWord(hostile, ENV);
        } catch (Throwable t) {
          thrown[0] = t;
        }
      }, "small-stack", 256 * 1024);
      small.start();
      small.join();
      assertThat(thrown[0]).isInstanceOfSatisfying(ShellExpansionException.class, e -> assertThat(e.reason())
          .isEqualTo("variable expansion nested deeper than " + WordExpansion.MAX_NESTING + " levels"));
    }

    private static String nested(int depth) {
      return "${U:-".repeat(depth) + "deep" + "}".repeat(depth);
    }

    @Test
    void messageQuotesTheWordLikeGo() {
      assertThatThrownBy(() -> LEX.processWord("a\"b\n", ENV))
          .hasMessage("failed to process \"a\\\"b\\n\": "
              + "unexpected end of statement while looking for matching double-quote");
    }
  }

  @Nested
  class Words {
    @Test
    void unquotedExpansionSplitsQuotedDoesNot() {
      assertThat(LEX.processWords("a$SPACED \"$SPACED\"b", ENV))
          .containsExactly("ax", "y", "x  yb");
    }

    @Test
    void defaultValuesInsideAWordStayInThatWord() {
      // Recent BuildKit lexers share one word buffer between nesting levels (shellWord.wordsBuffer),
      // which would lose "hello" here; we keep the earlier, intended result: each nested ${...}
      // collects its own words.
      assertThat(LEX.processWords("hello${X:-a b}c", ENV)).containsExactly("helloa", "bc");
    }

    @Test
    void quotedEmptyStringMakesNoWord() {
      assertThat(LEX.processWords("\"\" ''", ENV)).isEmpty();
      assertThat(LEX.processWords("", ENV)).isEmpty();
    }

    @Test
    void splitsOnGoWhitespaceNotJavaWhitespace() {
      assertThat(LEX.processWords("a\u00A0b\u2003c", ENV)).containsExactly("a", "b", "c");
      assertThat(LEX.processWords("a\u001Cb", ENV)).containsExactly("a\u001Cb");
    }

    @Test
    void processWordKeepsWhitespace() {
      assertThat(LEX.processWord(" a  $SPACED ", ENV)).isEqualTo(" a  x  y ");
    }
  }

  /**
   * BuildKit's processPossibleHeredoc: the blanks right after {@code <<} belong to the word, so
   * heredoc detection (which lexes the line with raw quotes, raw escapes and SkipUnsetEnv) sees
   * {@code <<  EOF} as one word.
   */
  @Nested
  class HeredocWords {
    private final ShellLex heredocLex =
        new ShellLex('\\').withRawQuotes(true).withRawEscapes(true).withSkipUnsetEnv(true);

    @Test
    void blanksAfterDoubleLessThanStayInTheWord() {
      assertThat(heredocLex.processWords("cat <<  EOF > out", Map.of()))
          .containsExactly("cat", "<<  EOF", ">", "out");
      assertThat(heredocLex.processWords("<<\t\r EOF", Map.of())).containsExactly("<<\t\r EOF");
      assertThat(LEX.processWords("<<  EOF", ENV)).containsExactly("<<  EOF");
    }

    @Test
    void onlyBlanksRightAfterDoubleLessThanAreKept() {
      assertThat(heredocLex.processWords("<< -EOF", Map.of())).containsExactly("<< -EOF");
      assertThat(heredocLex.processWords("<<- EOF", Map.of())).containsExactly("<<-", "EOF");
    }

    @Test
    void quotedTerminatorKeepsItsQuotesOnlyWithRawQuotes() {
      assertThat(heredocLex.processWords("<<-\"EOF\" sh", Map.of()))
          .containsExactly("<<-\"EOF\"", "sh");
      assertThat(LEX.processWords("<<-\"EOF\"", ENV)).containsExactly("<<-EOF");
    }

    @Test
    void fileDescriptorPrefixIsPartOfTheWord() {
      assertThat(heredocLex.processWords("0<<EOF", Map.of())).containsExactly("0<<EOF");
      assertThat(heredocLex.processWords("cat 3<< EOF", Map.of())).containsExactly("cat", "3<< EOF");
    }

    @Test
    void otherWhitespaceAfterDoubleLessThanStillSplits() {
      assertThat(heredocLex.processWords("<<\nEOF", Map.of())).containsExactly("<<", "EOF");
      assertThat(heredocLex.processWords("<<\u000BEOF", Map.of())).containsExactly("<<", "EOF");
    }

    @Test
    void singleLessThanIsAnOrdinaryCharacter() {
      assertThat(LEX.processWords("a < b", ENV)).containsExactly("a", "<", "b");
      assertThat(LEX.processWords("< EOF", ENV)).containsExactly("<", "EOF");
    }

    @Test
    void escapedOrExpandedLessThanDoesNotJoinTheNextWord() {
      // The escape consumes the first <, so the second is a lone < and the blank splits.
      assertThat(LEX.processWords("\\<<  EOF", ENV)).containsExactly("<<", "EOF");
      assertThat(LEX.processWords("$V", Map.of("V", "<<  EOF"))).containsExactly("<<", "EOF");
    }

    @Test
    void expandedTextIsUnchanged() {
      assertThat(LEX.processWord("cat <<  EOF\t<x", ENV)).isEqualTo("cat <<  EOF\t<x");
      assertThat(LEX.processWord("${NOPE:-<<  x}", ENV)).isEqualTo("<<  x");
    }
  }

  @Nested
  class Lookups {
    @Test
    void reportsMatchedAndUnmatchedNamesIncludingParameters() {
      ProcessResult result = LEX.processWordWithMatches("$PWD $1 $@ ${EMPTY:-$NOPE} ${X-}", ENV);
      assertThat(result.result()).isEqualTo("/home    ");
      assertThat(result.matched()).containsExactly("EMPTY", "PWD");
      assertThat(result.unmatched()).containsExactly("1", "@", "NOPE", "X");
      assertThat(result.words()).containsExactly("/home");
    }

    @Test
    void presentKeyWithEmptyValueIsSet() {
      Map<String, String> env = new HashMap<>();
      env.put("A", "");
      assertThat(LEX.processWord("${A-unset}${B-unset}${A:-empty}", env))
          .isEqualTo("unsetempty");
    }

    @Test
    void namesAreCaseSensitiveAndMayBeUnicodeLetters() {
      Map<String, String> env = Map.of("pwd", "lower", "ÉTÉ", "summer");
      assertThat(LEX.processWord("$PWD|$pwd|$ÉTÉ|${ÉTÉ}x", env)).isEqualTo("|lower|summer|summerx");
    }

    @Test
    void dollarBeforeNothingNameLikeStaysLiteral() {
      assertThat(LEX.processWord("a$ b$. c$", ENV)).isEqualTo("a$ b$. c$");
    }

    @Test
    void nullEnvMeansNothingIsSet() {
      assertThat(LEX.processWord("x${A:-d}", null)).isEqualTo("xd");
    }

    @Test
    void leadingByteOrderMarkIsSkippedLikeGosScanner() {
      assertThat(LEX.processWord("\uFEFF$PWD\uFEFF", ENV)).isEqualTo("/home\uFEFF");
    }

    @Test
    void envFromListLaterEntriesWin() {
      assertThat(ShellLex.envFromList(java.util.List.of("A=1", "B", "A=2=3")))
          .containsExactly(Map.entry("A", "2=3"), Map.entry("B", ""));
    }
  }
}
