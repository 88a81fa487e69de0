package dev.stagefarm.dockerfile.shell;

/**
 * The two pieces of Go's text handling that BuildKit's lexer relies on and Java spells
 * differently: {@code unicode.IsSpace} (Java's {@code isWhitespace} leaves out no-break spaces and
 * adds the information separators) and {@code strconv.Quote}, which BuildKit's error messages use
 * through {@code %q}.
 */
final class GoText {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private GoText() {}

  /** Go's {@code unicode.IsSpace}: Latin-1 spaces plus the Unicode White_Space property. */
  static boolean isSpace(int codePoint) {
    if (codePoint <= 0xFF) {
      return switch (codePoint) {
        case '\t', '\n', 0x0B, '\f', '\r', ' ', 0x85, 0xA0 -> true;
        default -> false;
      };
    }
    return codePoint == 0x1680
        || (codePoint >= 0x2000 && codePoint <= 0x200A)
        || codePoint == 0x2028
        || codePoint == 0x2029
        || codePoint == 0x202F
        || codePoint == 0x205F
        || codePoint == 0x3000;
  }

  /** Go's {@code strconv.Quote}: a double-quoted literal with Go escapes for what is not printable. */
  static String quote(String text) {
    StringBuilder out = new StringBuilder(text.length() + 2).append('"');
    text.codePoints().forEach(codePoint -> appendEscaped(out, codePoint));
    return out.append('"').toString();
  }

  private static void appendEscaped(StringBuilder out, int codePoint) {
    if (codePoint == '"' || codePoint == '\\') {
      out.append('\\').appendCodePoint(codePoint);
      return;
    }
    if (Character.isSurrogate((char) codePoint) && codePoint <= 0xFFFF) {
      // Go strings cannot hold a lone surrogate; it becomes the replacement character.
      out.append('\uFFFD');
      return;
    }
    if (isPrint(codePoint)) {
      out.appendCodePoint(codePoint);
      return;
    }
    switch (codePoint) {
      case 0x07 -> out.append("\\a");
      case '\b' -> out.append("\\b");
      case '\f' -> out.append("\\f");
      case '\n' -> out.append("\\n");
      case '\r' -> out.append("\\r");
      case '\t' -> out.append("\\t");
      case 0x0B -> out.append("\\v");
      default -> {
        if (codePoint < ' ' || codePoint == 0x7F) {
          appendHex(out.append("\\x"), codePoint, 2);
        } else if (codePoint < 0x10000) {
          appendHex(out.append("\\u"), codePoint, 4);
        } else {
          appendHex(out.append("\\U"), codePoint, 8);
        }
      }
    }
  }

  private static void appendHex(StringBuilder out, int value, int digits) {
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
      out.append(HEX[(value >> shift) & 0xF]);
    }
  }

  /** Go's {@code unicode.IsPrint}: letters, marks, numbers, punctuation, symbols and ASCII space. */
  private static boolean isPrint(int codePoint) {
    if (codePoint == ' ') {
      return true;
    }
    return switch (Character.getType(codePoint)) {
      case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
          Character.MODIFIER_LETTER, Character.OTHER_LETTER,
          Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK,
          Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER,
          Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
          Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
          Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION,
          Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
          Character.OTHER_SYMBOL -> true;
      default -> false;
    };
  }
}
