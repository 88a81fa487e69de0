package dev.stagefarm.dockerfile.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The pattern translation, against the expectations of BuildKit's lex_test.go. */
class ShellPatternTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "*  | ^.*",
      "?  | ^.",
      "\\*  | ^\\*",
  })
  void translatesToTheSameRegexAsBuildKit(String pattern, String regex) {
    assertThat(ShellPattern.toRegex(pattern, true, true)).isEqualTo(regex);
  }

  @Test
  void escapesEveryRegexMetacharacterLikeBuildKit() {
    assertThat(ShellPattern.toRegex("(()[]{\\}^$.\\*\\?|\\\\", true, true))
        .isEqualTo("^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\");
  }

  @Test
  void nonGreedyStarIsLazyAndUnanchoredHasNoCaret() {
    assertThat(ShellPattern.toRegex("a*\\/", false, false)).isEqualTo("a.*?/");
  }

  @ParameterizedTest
  @ValueSource(strings = {"\\", "\\x", "\\\\\\"})
  void rejectsInvalidEscapes(String pattern) {
    assertThatThrownBy(() -> ShellPattern.toRegex(pattern, true, true))
        .isInstanceOf(ExpansionFailure.class)
        .hasMessageStartingWith("invalid pattern (" + pattern + ") in substitution: invalid escape");
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "a\\*c    | c\\*a",
      "\\\\\\ab | b\\a\\\\",
      "ab\\     | \\ba",
      "👽\\🚀🖖   | 🖖\\🚀👽",
      "\\\\b    | b\\\\",
  })
  void reversesPatternsKeepingEscapesInFront(String pattern, String reversed) {
    assertThat(ShellPattern.reversePattern(pattern)).isEqualTo(reversed);
  }

  @Test
  void reversesByCodePoint() {
    assertThat(ShellPattern.reverse("54321")).isEqualTo("12345");
    assertThat(ShellPattern.reverse("🖖🚀👽")).isEqualTo("👽🚀🖖");
  }
}
