package dev.stagefarm.dockerfile.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Go's text primitives as BuildKit's parser and shell lexer use them (internal: not API). Java's look-alikes differ in edge cases
 * (e.g. {@code String.strip()} does not trim U+00A0, {@code \s} includes {@code \v}), and the
 * dump format must match byte for byte, so these follow the Go definitions exactly.
 */
public final class GoText {

  /** BuildKit's {@code reWhitespace}: {@code [\t\v\f\r ]+}. */
  public static final Pattern WHITESPACE = Pattern.compile("[\\t\\x0B\\f\\r ]+");

  private GoText() {}

  /** Go {@code unicode.IsSpace}: the Unicode White_Space property. */
  public static boolean isSpace(int cp) {
    return switch (cp) {
      case '\t', '\n', 0x0B, '\f', '\r', ' ', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F,
          0x3000 -> true;
      default -> cp >= 0x2000 && cp <= 0x200A;
    };
  }

  /** Go {@code strings.TrimSpace}. */
  public static String trimSpace(String s) {
    return trimRightSpace(trimLeftSpace(s));
  }

  /** Go {@code strings.TrimLeftFunc(s, unicode.IsSpace)}. */
  public static String trimLeftSpace(String s) {
    int i = 0;
    while (i < s.length()) {
      int cp = s.codePointAt(i);
      if (!isSpace(cp)) {
        break;
      }
      i += Character.charCount(cp);
    }
    return s.substring(i);
  }

  public static String trimRightSpace(String s) {
    int end = s.length();
    while (end > 0) {
      int cp = s.codePointBefore(end);
      if (!isSpace(cp)) {
        break;
      }
      end -= Character.charCount(cp);
    }
    return s.substring(0, end);
  }

  /** Go {@code strings.ToLower}: per code point, simple case mapping (no locale, no context). */
  public static String toLower(String s) {
    StringBuilder out = new StringBuilder(s.length());
    s.codePoints().forEach(cp -> out.appendCodePoint(Character.toLowerCase(cp)));
    return out.toString();
  }

  /**
   * Go {@code regexp.Split(s, n)} for {@link #WHITESPACE}; {@code n < 0} means no limit. Unlike
   * {@code String.split} it keeps a leading empty field and never drops trailing ones.
   */
  public static List<String> splitWhitespace(String s, int n) {
    List<String> out = new ArrayList<>();
    if (n == 0) {
      return out;
    }
    if (s.isEmpty()) {
      out.add("");
      return out;
    }
    Matcher m = WHITESPACE.matcher(s);
    int beg = 0;
    int end = 0;
    int found = 0;
    while ((n < 0 || found < n) && m.find()) {
      found++;
      if (n > 0 && out.size() == n - 1) {
        break;
      }
      end = m.start();
      if (m.end() != 0) {
        out.add(s.substring(beg, end));
      }
      beg = m.end();
    }
    if (end != s.length()) {
      out.add(s.substring(beg));
    }
    return out;
  }

  /**
   * Go {@code strconv.Quote}: a double-quoted literal with Go escapes, printable characters kept
   * as they are. A lone surrogate stands for invalid UTF-8 and is written byte by byte.
   */
  public static String quote(String s) {
    StringBuilder out = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      if (Character.isSurrogate((char) cp) && cp <= 0xFFFF) {
        // Go strings cannot hold surrogates; their 3-byte encodings are invalid UTF-8.
        out.append(String.format("\\x%02x\\x%02x\\x%02x",
            0xE0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3F), 0x80 | (cp & 0x3F)));
        continue;
      }
      switch (cp) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case 0x07 -> out.append("\\a");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case 0x0B -> out.append("\\v");
        default -> {
          if (isPrint(cp)) {
            out.appendCodePoint(cp);
          } else if (cp < ' ' || cp == 0x7F) {
            out.append(String.format("\\x%02x", cp));
          } else if (cp < 0x10000) {
            out.append(String.format("\\u%04x", cp));
          } else {
            out.append(String.format("\\U%08x", cp));
          }
        }
      }
    }
    return out.append('"').toString();
  }

  /** Go {@code strconv.IsPrint}: categories L, M, N, P, S and the ASCII space. */
  public static boolean isPrint(int cp) {
    if (cp == ' ') {
      return true;
    }
    return switch (Character.getType(cp)) {
      case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
          Character.MODIFIER_LETTER, Character.OTHER_LETTER,
          Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK,
          Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER,
          Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION,
          Character.START_PUNCTUATION, Character.END_PUNCTUATION,
          Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
          Character.OTHER_PUNCTUATION,
          Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
          Character.OTHER_SYMBOL -> true;
      default -> false;
    };
  }

  /** The number of bytes {@code s} takes in UTF-8 (a lone surrogate counts as 3, like Go). */
  public static int utf8Length(CharSequence s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }
}
