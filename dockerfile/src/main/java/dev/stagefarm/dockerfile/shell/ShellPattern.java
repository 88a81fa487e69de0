package dev.stagefarm.dockerfile.shell;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The patterns of {@code ${V#p}}, {@code ${V%p}}, {@code ${V/p/r}} and their greedy forms, matched
 * the way BuildKit matches them: the pattern becomes a regular expression in which {@code *} is any
 * string (shortest or longest), {@code ?} any one character, and {@code \} escapes only {@code *},
 * {@code ?} and {@code \} (an escaped {@code }} or {@code /} stands for itself). Every other
 * character is literal — BuildKit has no bracket expressions, so {@code [a-z]} matches those five
 * characters.
 *
 * <p>Java's regex engine has the same leftmost-first semantics as Go's for these expressions; with
 * {@link Pattern#UNIX_LINES} {@code .} also excludes only {@code \n}, as in Go. Go's replace-all
 * loop and its {@code $} templates are reproduced by hand, because Java's differ.
 */
final class ShellPattern {
  private static final int ESCAPE = '\\';

  private ShellPattern() {}

  /** {@code ${V#p}} and {@code ${V##p}}: removes the shortest (longest) prefix matching. */
  static String trimPrefix(String pattern, String value, boolean greedy) {
    Matcher match = compile(pattern, greedy, true).matcher(value);
    return match.find() ? value.substring(match.end()) : value;
  }

  /** {@code ${V%p}} and {@code ${V%%p}}: removes the shortest (longest) suffix matching. */
  static String trimSuffix(String pattern, String value, boolean greedy) {
    // A regex finds the leftmost match, not the shortest rightmost one, so search the reversed
    // value with the reversed pattern, as BuildKit does.
    return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
  }

  /** {@code ${V/p/r}}: replaces the first (leftmost, longest) match; r is taken literally. */
  static String replaceFirst(String pattern, String value, String replacement) {
    Matcher match = compile(pattern, true, false).matcher(value);
    if (!match.find()) {
      return value;
    }
    return value.substring(0, match.start()) + replacement + value.substring(match.end());
  }

  /**
   * {@code ${V//p/r}}: replaces every match, with Go's {@code ReplaceAllString} semantics: an empty
   * match right after a match is skipped, and r is a Go template where {@code $0} is the match,
   * {@code $$} a dollar sign, and any other reference is empty.
   */
  static String replaceAll(String pattern, String value, String replacement) {
    Matcher match = compile(pattern, true, false).matcher(value);
    StringBuilder out = new StringBuilder();
    int end = value.length();
    int lastMatchEnd = 0;
    int searchPos = 0;
    while (searchPos <= end && match.find(searchPos)) {
      out.append(value, lastMatchEnd, match.start());
      if (match.end() > lastMatchEnd || match.start() == 0) {
        expandTemplate(out, replacement, value.substring(match.start(), match.end()));
      }
      lastMatchEnd = match.end();
      int width = searchPos < end ? Character.charCount(value.codePointAt(searchPos)) : 0;
      if (searchPos + width > match.end()) {
        searchPos += width;
      } else if (searchPos + 1 > match.end()) {
        searchPos++;
      } else {
        searchPos = match.end();
      }
    }
    out.append(value, lastMatchEnd, end);
    return out.toString();
  }

  /** BuildKit's {@code convertShellPatternToRegex}, producing the same expression text. */
  static String toRegex(String pattern, boolean greedy, boolean anchored) {
    CodePointScanner scanner = new CodePointScanner(pattern);
    StringBuilder out = new StringBuilder(pattern.length() + 4);
    if (anchored) {
      out.append('^');
    }
    String star = greedy ? ".*" : ".*?";
    for (int token = scanner.next(); token != CodePointScanner.EOF; token = scanner.next()) {
      switch (token) {
        case '*' -> out.append(star);
        case '?' -> out.append('.');
        case ESCAPE -> {
          int escaped = scanner.peek();
          if (escaped == '}' || escaped == '/') {
            // The escape only kept } or / from ending the ${...}; it is not part of the pattern.
            continue;
          }
          scanner.next();
          if (escaped != '*' && escaped != '?' && escaped != ESCAPE) {
            throw new ExpansionFailure(
                "invalid pattern (" + pattern + ") in substitution: invalid escape '\\"
                    + codePointString(escaped) + "'");
          }
          out.append('\\').appendCodePoint(escaped);
        }
        case '[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$' ->
            out.append('\\').appendCodePoint(token);
        default -> out.appendCodePoint(token);
      }
    }
    return out.toString();
  }

  /** Reverses a pattern but keeps each escape before the character it escapes. */
  static String reversePattern(String pattern) {
    int[] in = pattern.codePoints().toArray();
    int[] out = new int[in.length];
    int last = in.length - 1;
    for (int i = 0; i <= last; ) {
      int outIndex = last - i;
      if (in[i] == ESCAPE && i != last) {
        out[outIndex - 1] = in[i];
        out[outIndex] = in[i + 1];
        i += 2;
      } else {
        out[outIndex] = in[i];
        i++;
      }
    }
    return new String(out, 0, out.length);
  }

  /** Reverses by code point, so characters outside the BMP stay whole. */
  static String reverse(String text) {
    int[] codePoints = text.codePoints().toArray();
    int[] reversed = new int[codePoints.length];
    for (int i = 0; i < codePoints.length; i++) {
      reversed[codePoints.length - 1 - i] = codePoints[i];
    }
    return new String(reversed, 0, reversed.length);
  }

  /** Go's string(rune): the end of input prints as the replacement character. */
  static String codePointString(int codePoint) {
    return codePoint < 0 || !Character.isValidCodePoint(codePoint)
        ? "\uFFFD"
        : Character.toString(codePoint);
  }

  private static Pattern compile(String pattern, boolean greedy, boolean anchored) {
    return Pattern.compile(toRegex(pattern, greedy, anchored), Pattern.UNIX_LINES);
  }

  /**
   * Go's {@code Regexp.Expand} for an expression without groups: {@code $$} is a dollar sign,
   * {@code $0}/{@code ${0}} the whole match, any other well-formed reference nothing, and a
   * malformed one a literal dollar sign.
   */
  private static void expandTemplate(StringBuilder out, String template, String match) {
    int i = 0;
    int length = template.length();
    while (i < length) {
      int dollar = template.indexOf('$', i);
      if (dollar < 0) {
        break;
      }
      out.append(template, i, dollar);
      i = dollar + 1;
      if (i < length && template.charAt(i) == '$') {
        out.append('$');
        i++;
        continue;
      }
      int nameStart = i;
      boolean brace = i < length && template.charAt(i) == '{';
      if (brace) {
        nameStart++;
      }
      int nameEnd = nameStart;
      while (nameEnd < length) {
        int codePoint = template.codePointAt(nameEnd);
        if (!Character.isLetter(codePoint) && !Character.isDigit(codePoint) && codePoint != '_') {
          break;
        }
        nameEnd += Character.charCount(codePoint);
      }
      boolean wellFormed =
          nameEnd > nameStart && (!brace || (nameEnd < length && template.charAt(nameEnd) == '}'));
      if (!wellFormed) {
        out.append('$');
        continue;
      }
      if (template.substring(nameStart, nameEnd).equals("0")) {
        out.append(match);
      }
      i = brace ? nameEnd + 1 : nameEnd;
    }
    out.append(template, i, length);
  }
}
