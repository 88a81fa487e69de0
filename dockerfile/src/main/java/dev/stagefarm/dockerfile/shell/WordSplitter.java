package dev.stagefarm.dockerfile.shell;

import dev.stagefarm.dockerfile.internal.GoText;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects the words of ProcessWords while the expansion runs, as BuildKit's {@code wordsStruct}
 * does: plain characters and unquoted expansions split on whitespace; quoted text and escaped
 * characters never split. A quoted empty string starts a word but produces none on its own.
 */
final class WordSplitter {
  private final List<String> words = new ArrayList<>();
  private final StringBuilder word = new StringBuilder();
  private boolean inWord;

  /** A character that whitespace may split at. */
  void add(int codePoint) {
    boolean space = GoText.isSpace(codePoint);
    if (space && inWord) {
      if (!word.isEmpty()) {
        words.add(word.toString());
        word.setLength(0);
        inWord = false;
      }
    } else if (!space) {
      addRaw(codePoint);
    }
  }

  /** Text from an unquoted expansion: split like plain characters. */
  void addSplitting(String text) {
    text.codePoints().forEach(this::add);
  }

  /** A character that belongs to the current word whatever it is. */
  void addRaw(int codePoint) {
    word.appendCodePoint(codePoint);
    inWord = true;
  }

  /** Quoted text: part of the current word whatever it contains. */
  void addRaw(String text) {
    word.append(text);
    inWord = true;
  }

  /** The words collected, including the one in progress. */
  List<String> finish() {
    if (!word.isEmpty()) {
      words.add(word.toString());
      word.setLength(0);
      inWord = false;
    }
    return words;
  }
}
