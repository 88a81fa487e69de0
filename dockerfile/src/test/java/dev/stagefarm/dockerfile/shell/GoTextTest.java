package dev.stagefarm.dockerfile.shell;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GoTextTest {

  @Test
  void quotesLikeStrconvQuote() {
    assertThat(GoText.quote("a\"b\\c\n\t\u0001\u007Fé😀 \u00A0\u200B"))
        .isEqualTo("\"a\\\"b\\\\c\\n\\t\\x01\\x7fé😀 \\u00a0\\u200b\"");
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
