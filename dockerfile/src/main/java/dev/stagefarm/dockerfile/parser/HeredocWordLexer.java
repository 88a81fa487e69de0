package dev.stagefarm.dockerfile.parser;

import dev.stagefarm.dockerfile.internal.GoText;

import java.util.ArrayList;
import java.util.List;

/**
 * The part of BuildKit's shell lexer ({@code shell.Lex.ProcessWords}) that heredoc detection
 * relies on: word splitting with quotes and escapes, an empty environment and {@code
 * SkipUnsetEnv}, so every {@code $VAR}/{@code ${...}} is kept as written. The escape character is
 * always {@code \}, whatever the Dockerfile's escape directive says, as in BuildKit.
 *
 * <p>Variable expansion proper lives in the shell package; this copy is deliberately limited to
 * what finding a heredoc terminator needs, and must agree with BuildKit on which words exist.
 */
final class HeredocWordLexer {
  private static final int EOF = -1;
  private static final int ESCAPE = '\\';

  /** The word could not be lexed (an unterminated quote or a bad {@code ${}}). */
  static final class LexException extends Exception {
    LexException(String message) {
      super(message);
    }
  }

  private final boolean rawQuotes;
  private boolean rawEscapes;
  private int[] src;
  private int pos;

  /**
   * @param rawQuotes keep quote characters in the words
   * @param rawEscapes keep escape characters in the words
   */
  HeredocWordLexer(boolean rawQuotes, boolean rawEscapes) {
    this.rawQuotes = rawQuotes;
    this.rawEscapes = rawEscapes;
  }

  /** {@code ProcessWords}: the words of {@code text}. */
  List<String> words(String text) throws LexException {
    src = text.codePoints().toArray();
    pos = 0;
    try {
      return processStopOn(EOF, rawEscapes).words();
    } catch (LexException e) {
      throw new LexException("failed to process " + GoText.quote(text) + ": " + e.getMessage());
    }
  }

  private record Processed(String result, List<String> words) {}

  private Processed processStopOn(int stopChar, boolean escapesRaw) throws LexException {
    StringBuilder result = new StringBuilder();
    Words words = new Words();
    boolean saved = rawEscapes;
    rawEscapes = escapesRaw;
    try {
      while (peek() != EOF) {
        int ch = peek();
        if (stopChar != EOF && ch == stopChar) {
          next();
          return new Processed(result.toString(), words.finish());
        }
        if (ch == '$' || ch == '<' || ch == '\'' || ch == '"') {
          String tmp = switch (ch) {
            case '$' -> processDollar();
            case '<' -> processPossibleHeredoc();
            case '\'' -> processSingleQuote();
            default -> processDoubleQuote();
          };
          result.append(tmp);
          if (ch == '$') {
            words.addString(tmp);
          } else {
            words.addRawString(tmp);
          }
          continue;
        }
        ch = next();
        if (ch == ESCAPE) {
          if (rawEscapes) {
            words.addRawChar(ch);
            result.appendCodePoint(ch);
          }
          ch = next();
          if (ch == EOF) {
            break;
          }
          words.addRawChar(ch);
        } else {
          words.addChar(ch);
        }
        result.appendCodePoint(ch);
      }
      if (stopChar != EOF) {
        throw new LexException("unexpected end of statement while looking for matching "
            + Character.toString(stopChar));
      }
      return new Processed(result.toString(), words.finish());
    } finally {
      rawEscapes = saved;
    }
  }

  private String processSingleQuote() throws LexException {
    StringBuilder result = new StringBuilder();
    int ch = next();
    if (rawQuotes) {
      result.appendCodePoint(ch);
    }
    while (true) {
      ch = next();
      if (ch == EOF) {
        throw new LexException(
            "unexpected end of statement while looking for matching single-quote");
      }
      if (ch == '\'') {
        if (rawQuotes) {
          result.appendCodePoint(ch);
        }
        return result.toString();
      }
      result.appendCodePoint(ch);
    }
  }

  private String processDoubleQuote() throws LexException {
    StringBuilder result = new StringBuilder();
    int ch = next();
    if (rawQuotes) {
      result.appendCodePoint(ch);
    }
    while (true) {
      int p = peek();
      if (p == EOF) {
        throw new LexException(
            "unexpected end of statement while looking for matching double-quote");
      }
      if (p == '"') {
        ch = next();
        if (rawQuotes) {
          result.appendCodePoint(ch);
        }
        return result.toString();
      }
      if (p == '$') {
        result.append(processDollar());
        continue;
      }
      ch = next();
      if (ch == ESCAPE) {
        if (rawEscapes) {
          result.appendCodePoint(ch);
        }
        int after = peek();
        if (after == EOF) {
          continue;
        }
        if (after == '"' || after == '$' || after == ESCAPE) {
          ch = next();
        }
      }
      result.appendCodePoint(ch);
    }
  }

  /** With an empty environment every reference is unset, so it is reproduced as written. */
  private String processDollar() throws LexException {
    next();
    if (peek() != '{') {
      String name = processName();
      return "$" + name;
    }
    next();
    int p = peek();
    if (p == EOF) {
      throw new LexException("syntax error: missing '}'");
    }
    if (p == '{' || p == '}' || p == ':') {
      throw new LexException("syntax error: bad substitution");
    }
    String name = processName();
    int ch = next();
    String chs = runeString(ch);
    boolean nullIsUnset = false;
    switch (ch) {
      case '}' -> {
        return "${" + name + "}";
      }
      case ':', '+', '-', '?', '#', '%' -> {
        if (ch == ':') {
          nullIsUnset = true;
          ch = next();
          chs += runeString(ch);
        }
        boolean patternEscapes = ch == '#' || ch == '%';
        if (nullIsUnset && patternEscapes) {
          throw new LexException("unsupported modifier (" + chs + ") in substitution");
        }
        String word;
        try {
          word = processStopOn('}', patternEscapes).result();
        } catch (LexException e) {
          if (peek() == EOF) {
            throw new LexException("syntax error: missing '}'");
          }
          throw e;
        }
        return "${" + name + chs + word + "}";
      }
      case '/' -> {
        if (peek() == '/') {
          next();
        }
        String pattern;
        try {
          pattern = processStopOn('/', true).result();
        } catch (LexException e) {
          if (peek() == EOF) {
            throw new LexException("syntax error: missing '/' in ${}");
          }
          throw e;
        }
        String replacement;
        try {
          replacement = processStopOn('}', true).result();
        } catch (LexException e) {
          if (peek() == EOF) {
            throw new LexException("syntax error: missing '}'");
          }
          throw e;
        }
        return "${" + name + "/" + pattern + "/" + replacement + "}";
      }
      default -> throw new LexException("unsupported modifier (" + chs + ") in substitution");
    }
  }

  private String processName() {
    StringBuilder name = new StringBuilder();
    while (peek() != EOF) {
      int ch = peek();
      if (name.isEmpty() && Character.isDigit(ch)) {
        while (peek() != EOF && Character.isDigit(peek())) {
          name.appendCodePoint(next());
        }
        return name.toString();
      }
      if (name.isEmpty() && isSpecialParam(ch)) {
        return runeString(next());
      }
      if (!Character.isLetter(ch) && !Character.isDigit(ch) && ch != '_') {
        break;
      }
      name.appendCodePoint(next());
    }
    return name.toString();
  }

  /** {@code <<} keeps the blanks after it, so {@code << EOF} stays one word. */
  private String processPossibleHeredoc() {
    next();
    if (peek() != '<') {
      return "<";
    }
    next();
    StringBuilder result = new StringBuilder("<<");
    while (peek() == ' ' || peek() == '\t' || peek() == '\r') {
      result.appendCodePoint(next());
    }
    return result.toString();
  }

  private static boolean isSpecialParam(int ch) {
    return switch (ch) {
      case '@', '*', '#', '?', '-', '$', '!', '0' -> true;
      default -> false;
    };
  }

  /** Go's {@code string(rune)}: EOF (-1) becomes U+FFFD. */
  private static String runeString(int ch) {
    return ch < 0 ? "\uFFFD" : Character.toString(ch);
  }

  private int peek() {
    return pos < src.length ? src[pos] : EOF;
  }

  private int next() {
    return pos < src.length ? src[pos++] : EOF;
  }

  /** BuildKit's {@code wordsStruct}, quirks included (an empty quoted word is dropped). */
  private static final class Words {
    private final List<String> words = new ArrayList<>();
    private final StringBuilder word = new StringBuilder();
    private boolean inWord;

    void addChar(int ch) {
      if (GoText.isSpace(ch) && inWord) {
        if (!word.isEmpty()) {
          words.add(word.toString());
          word.setLength(0);
          inWord = false;
        }
      } else if (!GoText.isSpace(ch)) {
        addRawChar(ch);
      }
    }

    void addRawChar(int ch) {
      word.appendCodePoint(ch);
      inWord = true;
    }

    void addString(String s) {
      s.codePoints().forEach(this::addChar);
    }

    void addRawString(String s) {
      word.append(s);
      inWord = true;
    }

    List<String> finish() {
      if (!word.isEmpty()) {
        words.add(word.toString());
        word.setLength(0);
        inWord = false;
      }
      return words;
    }
  }
}
