package dev.stagefarm.dockerfile.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Go's strconv.Quote, unicode.IsSpace and regexp.Split, as the dump format needs them. */
class GoTextTest {

  @Test
  void quoteEscapesLikeGo() {
    assertThat(GoText.quote("\" \\ / \b \f \n \r \t \u0000"))
        .isEqualTo("\"\\\" \\\\ / \\b \\f \\n \\r \\t \\x00\"");
    assertThat(GoText.quote("\u0007\u000b\u007f'")).isEqualTo("\"\\a\\v\\x7f'\"");
  }

  @Test
  void quoteKeepsPrintableUnicodeAndEscapesTheRest() {
    assertThat(GoText.quote("♥ ☃ 한국어 😀")).isEqualTo("\"♥ ☃ 한국어 😀\"");
    assertThat(GoText.quote("\u00a0\u200b\ue000")).isEqualTo("\"\\u00a0\\u200b\\ue000\"");
    assertThat(GoText.quote(new String(Character.toChars(0xE0001)))).isEqualTo("\"\\U000e0001\"");
  }

  @Test
  void quoteWritesLoneSurrogateAsInvalidUtf8Bytes() {
    assertThat(GoText.quote("\ud800")).isEqualTo("\"\\xed\\xa0\\x80\"");
  }

  @Test
  void trimSpaceUsesUnicodeWhiteSpace() {
    assertThat(GoText.trimSpace("\u00a0\u0085 x \u3000\u000b")).isEqualTo("x");
    assertThat(GoText.trimSpace("\u200bx")).isEqualTo("\u200bx"); // zero-width space is not space
  }

  @Test
  void splitWhitespaceKeepsEmptyFieldsLikeRegexpSplit() {
    assertThat(GoText.splitWhitespace("a \t b\u000bc", -1)).isEqualTo(List.of("a", "b", "c"));
    assertThat(GoText.splitWhitespace("a b c", 2)).isEqualTo(List.of("a", "b c"));
    assertThat(GoText.splitWhitespace(" a", -1)).isEqualTo(List.of("", "a"));
    assertThat(GoText.splitWhitespace("a\u00a0b", 2)).isEqualTo(List.of("a\u00a0b"));
    assertThat(GoText.splitWhitespace("", 2)).isEqualTo(List.of(""));
  }

  @Test
  void toLowerIsPerCodePointWithoutLocale() {
    assertThat(GoText.toLower("RUN İ ΣΣ")).isEqualTo("run i σσ");
  }

  @Test
  void spaceIsGosDefinition() {
    assertThat(GoText.isSpace(0xA0)).isTrue();
    assertThat(GoText.isSpace(0x85)).isTrue();
    assertThat(GoText.isSpace(0x3000)).isTrue();
    assertThat(GoText.isSpace(0x1C)).isFalse();
    assertThat(GoText.isSpace(0x200B)).isFalse();
  }
}
