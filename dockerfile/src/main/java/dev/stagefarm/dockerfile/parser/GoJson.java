package dev.stagefarm.dockerfile.parser;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON reader with Go's {@code encoding/json} acceptance rules, so that exactly the
 * inputs BuildKit treats as exec form are treated so here. The module stays free of
 * dependencies, and only the shape of values matters: strings, arrays and objects are returned
 * as {@link String}, {@link List} and {@link Map}; numbers, booleans and null as {@link #NUMBER},
 * {@link Boolean} and {@link #NULL}.
 */
final class GoJson {

  /** Stands for any JSON number: the parser never needs its value. */
  static final Object NUMBER = new Object();

  /** Stands for JSON {@code null}. */
  static final Object NULL = new Object();

  /** The input is not one well-formed JSON value. */
  static final class SyntaxException extends Exception {
    SyntaxException(String message) {
      super(message);
    }
  }

  private final String s;
  private int pos;

  private GoJson(String s) {
    this.s = s;
  }

  /** Go's {@code maxNestingDepth}: deeper input is a syntax error, not a stack overflow. */
  static final int MAX_DEPTH = 10_000;

  /** Parses exactly one JSON value, surrounded by JSON whitespace only. */
  static Object parse(String text) throws SyntaxException {
    GoJson reader = new GoJson(text);
    Object value = reader.value();
    reader.skipWhitespace();
    if (reader.pos != text.length()) {
      throw reader.error("invalid character after top-level value");
    }
    return value;
  }

  /** An array or object being read; a Dockerfile line can nest deeper than the Java stack. */
  private static final class Container {
    final List<Object> array;
    final Map<String, Object> object;
    String key;

    Container(List<Object> array, Map<String, Object> object) {
      this.array = array;
      this.object = object;
    }

    void add(Object value) {
      if (array != null) {
        array.add(value);
      } else {
        object.put(key, value);
      }
    }

    Object value() {
      return array != null ? array : object;
    }
  }

  /** Reads one value iteratively, keeping open containers on an explicit stack. */
  private Object value() throws SyntaxException {
    Deque<Container> open = new ArrayDeque<>();
    while (true) {
      skipWhitespace();
      Object value;
      int c = peek();
      if (c == '[' || c == '{') {
        if (open.size() >= MAX_DEPTH) {
          throw error("exceeded max depth");
        }
        pos++;
        skipWhitespace();
        if (c == '[' && peek() == ']') {
          pos++;
          value = new ArrayList<>();
        } else if (c == '{' && peek() == '}') {
          pos++;
          value = new LinkedHashMap<>();
        } else {
          Container container = c == '['
              ? new Container(new ArrayList<>(), null)
              : new Container(null, new LinkedHashMap<>());
          if (c == '{') {
            container.key = key();
          }
          open.push(container);
          continue;
        }
      } else {
        value = scalar();
      }
      // A value is complete: hand it to its container, closing containers as they end.
      while (true) {
        Container parent = open.peek();
        if (parent == null) {
          return value;
        }
        parent.add(value);
        skipWhitespace();
        int next = peek();
        pos++;
        if (next == ',') {
          if (parent.object != null) {
            parent.key = key();
          }
          break;
        }
        if (next == (parent.array != null ? ']' : '}')) {
          open.pop();
          value = parent.value();
          continue;
        }
        throw error(parent.array != null
            ? "expected ',' or ']' after array element"
            : "expected ',' or '}' after object value");
      }
    }
  }

  /** An object key and its colon. */
  private String key() throws SyntaxException {
    skipWhitespace();
    if (peek() != '"') {
      throw error("expected object key");
    }
    String key = string();
    skipWhitespace();
    expect(':');
    return key;
  }

  private Object scalar() throws SyntaxException {
    if (pos >= s.length()) {
      throw error("unexpected end of JSON input");
    }
    char c = s.charAt(pos);
    return switch (c) {
      case '"' -> string();
      case 't' -> literal("true", Boolean.TRUE);
      case 'f' -> literal("false", Boolean.FALSE);
      case 'n' -> literal("null", NULL);
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          yield number();
        }
        throw error("invalid character '" + c + "' looking for beginning of value");
      }
    };
  }

  private String string() throws SyntaxException {
    pos++;
    StringBuilder out = new StringBuilder();
    while (true) {
      if (pos >= s.length()) {
        throw error("unexpected end of JSON input");
      }
      char c = s.charAt(pos++);
      if (c == '"') {
        return out.toString();
      }
      if (c < 0x20) {
        throw error("invalid character in string literal");
      }
      if (c != '\\') {
        out.append(c);
        continue;
      }
      if (pos >= s.length()) {
        throw error("unexpected end of JSON input");
      }
      char e = s.charAt(pos++);
      switch (e) {
        case '"', '\\', '/' -> out.append(e);
        case 'b' -> out.append('\b');
        case 'f' -> out.append('\f');
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 't' -> out.append('\t');
        case 'u' -> out.appendCodePoint(unicodeEscape());
        default -> throw error("invalid escape in string literal");
      }
    }
  }

  /** A {@code \\uXXXX} escape (after the u); surrogate pairs combine, lone ones become U+FFFD. */
  private int unicodeEscape() throws SyntaxException {
    int first = hex4();
    if (!Character.isSurrogate((char) first)) {
      return first;
    }
    if (Character.isHighSurrogate((char) first) && s.startsWith("\\u", pos)) {
      int save = pos;
      pos += 2;
      int second = hex4();
      if (Character.isLowSurrogate((char) second)) {
        return Character.toCodePoint((char) first, (char) second);
      }
      pos = save; // Go keeps the second escape for itself and replaces the first
    }
    return 0xFFFD;
  }

  private int hex4() throws SyntaxException {
    if (pos + 4 > s.length()) {
      throw error("invalid \\u escape");
    }
    int v = 0;
    for (int i = 0; i < 4; i++) {
      int d = Character.digit(s.charAt(pos++), 16);
      if (d < 0) {
        throw error("invalid \\u escape");
      }
      v = v * 16 + d;
    }
    return v;
  }

  private Object number() throws SyntaxException {
    if (peek() == '-') {
      pos++;
    }
    if (peek() == '0') {
      pos++;
    } else if (isDigit(peek())) {
      while (isDigit(peek())) {
        pos++;
      }
    } else {
      throw error("invalid number");
    }
    if (peek() == '.') {
      pos++;
      requireDigits();
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      requireDigits();
    }
    return NUMBER;
  }

  private void requireDigits() throws SyntaxException {
    if (!isDigit(peek())) {
      throw error("invalid number");
    }
    while (isDigit(peek())) {
      pos++;
    }
  }

  private Object literal(String word, Object value) throws SyntaxException {
    if (!s.startsWith(word, pos)) {
      throw error("invalid literal");
    }
    pos += word.length();
    return value;
  }

  private void expect(char c) throws SyntaxException {
    if (peek() != c) {
      throw error("expected '" + c + "'");
    }
    pos++;
  }

  private int peek() {
    return pos < s.length() ? s.charAt(pos) : -1;
  }

  private static boolean isDigit(int c) {
    return c >= '0' && c <= '9';
  }

  private void skipWhitespace() {
    while (pos < s.length()) {
      char c = s.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private SyntaxException error(String message) {
    return new SyntaxException(message + " at offset " + pos);
  }
}
