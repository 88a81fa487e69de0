package dev.stagefarm.dockerfile.parser;

import dev.stagefarm.dockerfile.internal.GoText;

import java.util.ArrayList;
import java.util.List;

/**
 * BuildKit's {@code splitCommand}: a logical line becomes keyword, leading {@code --flags} and
 * the remaining arguments.
 */
final class CommandSplitter {

  /** The parts of one instruction line. */
  record Split(String keyword, List<String> flags, String args) {}

  private CommandSplitter() {}

  static Split split(String line, int escape) {
    List<String> parts = GoText.splitWhitespace(GoText.trimSpace(line), 2);
    String args = "";
    List<String> flags = List.of();
    if (parts.size() == 2) {
      StringBuilder rest = new StringBuilder();
      flags = extractFlags(parts.get(1), escape, rest);
      args = rest.toString();
    }
    return new Split(parts.get(0), flags, GoText.trimSpace(args));
  }

  private enum Phase { SPACES, WORD, QUOTE }

  /**
   * Takes the leading words that start with {@code --}; quotes inside them are removed and the
   * escape character escapes the next one. A bare {@code --} ends the flags and is dropped.
   * Unlike BuildKit, which walks bytes and so mangles non-ASCII flag values, this walks code
   * points.
   */
  static List<String> extractFlags(String line, int escape, StringBuilder rest) {
    List<String> words = new ArrayList<>();
    Phase phase = Phase.SPACES;
    StringBuilder word = new StringBuilder();
    int quote = 0;
    boolean blankOk = false;
    int len = line.length();
    int pos = 0;
    while (pos <= len) {
      int ch = pos < len ? line.codePointAt(pos) : -1;
      int width = ch < 0 ? 1 : Character.charCount(ch);
      if (phase == Phase.SPACES) {
        if (pos == len) {
          break;
        }
        if (GoText.isSpace(ch)) {
          pos += width;
          continue;
        }
        if (ch != '-' || pos + 1 >= len || line.charAt(pos + 1) != '-') {
          rest.append(line, pos, len);
          return words;
        }
        phase = Phase.WORD;
      }
      if (pos == len) {
        if (!word.toString().equals("--") && (blankOk || !word.isEmpty())) {
          words.add(word.toString());
        }
        break;
      }
      if (phase == Phase.WORD) {
        if (GoText.isSpace(ch)) {
          phase = Phase.SPACES;
          if (word.toString().equals("--")) {
            rest.append(line, pos, len);
            return words;
          }
          if (blankOk || !word.isEmpty()) {
            words.add(word.toString());
          }
          word.setLength(0);
          blankOk = false;
          pos += width;
          continue;
        }
        if (ch == '\'' || ch == '"') {
          quote = ch;
          blankOk = true;
          phase = Phase.QUOTE;
          pos += width;
          continue;
        }
      } else if (ch == quote) {
        phase = Phase.WORD;
        pos += width;
        continue;
      }
      // In a word or a quote alike, the escape character takes the next one literally.
      if (ch == escape) {
        pos += width;
        if (pos == len) {
          phase = Phase.WORD; // a trailing escape is dropped (and ends an open quote)
          continue;
        }
        ch = line.codePointAt(pos);
        width = Character.charCount(ch);
      }
      word.appendCodePoint(ch);
      pos += width;
    }
    return words;
  }
}
