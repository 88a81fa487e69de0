package dev.stagefarm.bake.hcl;

/**
 * Tokens of HCL's native syntax, read on demand: the parser reads template text (quoted strings,
 * heredocs) straight from the source between tokens, so interpolations nest as deep as the
 * grammar allows without a second lexer.
 */
final class HclLexer {
  enum Kind { IDENT, NUMBER, QUOTE, HEREDOC, PUNCT, NEWLINE, EOF }

  /** {@code text}: the identifier, number, operator, or heredoc marker ({@code strip} for {@code <<-}). */
  record Token(Kind kind, String text, Pos pos, boolean strip) {
    boolean is(String punct) {
      return kind == Kind.PUNCT && text.equals(punct);
    }

    boolean isIdent(String name) {
      return kind == Kind.IDENT && text.equals(name);
    }

    String describe() {
      return switch (kind) {
        case EOF -> "end of file";
        case NEWLINE -> "newline";
        case QUOTE -> "a string";
        case HEREDOC -> "a heredoc";
        default -> "\"" + text + "\"";
      };
    }
  }

  private static final String[] TWO_CHAR = {"==", "!=", "<=", ">=", "&&", "||", "=>"};

  private final String file;
  private final String src;
  private int at;
  private int line = 1;
  private int lineStart;

  HclLexer(String file, String src) {
    this.file = file;
    this.src = src;
  }

  Pos here() {
    return new Pos(file, line, at - lineStart + 1);
  }

  boolean atEnd() {
    return at >= src.length();
  }

  /** The character {@code ahead} places on, or -1 past the end. */
  int peekChar(int ahead) {
    int i = at + ahead;
    return i < src.length() ? src.charAt(i) : -1;
  }

  char takeChar() {
    char c = src.charAt(at++);
    if (c == '\n') {
      line++;
      lineStart = at;
    }
    return c;
  }

  boolean lookingAt(String text) {
    return src.startsWith(text, at);
  }

  /** The rest of the current line (without the newline), not consumed. */
  String restOfLine() {
    int end = src.indexOf('\n', at);
    return src.substring(at, end < 0 ? src.length() : end);
  }

  Token next() {
    while (true) {
      if (atEnd()) {
        return new Token(Kind.EOF, "", here(), false);
      }
      char c = src.charAt(at);
      if (c == ' ' || c == '\t' || c == '\r') {
        at++;
      } else if (c == '#' || lookingAt("//")) {
        while (!atEnd() && src.charAt(at) != '\n') {
          at++;
        }
      } else if (lookingAt("/*")) {
        Pos start = here();
        int end = src.indexOf("*/", at + 2);
        if (end < 0) {
          throw new HclException(start, "unterminated comment");
        }
        while (at < end + 2) {
          takeChar();
        }
      } else {
        break;
      }
    }
    Pos pos = here();
    char c = src.charAt(at);
    if (c == '\n') {
      takeChar();
      return new Token(Kind.NEWLINE, "\n", pos, false);
    }
    if (Character.isLetter(c) || c == '_') {
      int start = at;
      while (!atEnd() && (Character.isLetterOrDigit(src.charAt(at)) || src.charAt(at) == '_' || src.charAt(at) == '-')) {
        at++;
      }
      return new Token(Kind.IDENT, src.substring(start, at), pos, false);
    }
    if (Character.isDigit(c)) {
      return number(pos);
    }
    if (c == '"') {
      at++;
      return new Token(Kind.QUOTE, "\"", pos, false);
    }
    if (lookingAt("<<")) {
      return heredoc(pos);
    }
    if (lookingAt("...")) {
      at += 3;
      return new Token(Kind.PUNCT, "...", pos, false);
    }
    for (String op : TWO_CHAR) {
      if (lookingAt(op)) {
        at += 2;
        return new Token(Kind.PUNCT, op, pos, false);
      }
    }
    if ("{}[]()=,.:?!+-*/%<>".indexOf(c) >= 0) {
      at++;
      return new Token(Kind.PUNCT, String.valueOf(c), pos, false);
    }
    throw new HclException(pos, "unexpected character '" + printable(c) + "'");
  }

  private Token number(Pos pos) {
    int start = at;
    while (!atEnd() && Character.isDigit(src.charAt(at))) {
      at++;
    }
    if (peekChar(0) == '.' && peekChar(1) >= 0 && Character.isDigit(peekChar(1))) {
      at++;
      while (!atEnd() && Character.isDigit(src.charAt(at))) {
        at++;
      }
    }
    if ((peekChar(0) == 'e' || peekChar(0) == 'E')) {
      int save = at;
      at++;
      if (peekChar(0) == '+' || peekChar(0) == '-') {
        at++;
      }
      if (peekChar(0) >= 0 && Character.isDigit(peekChar(0))) {
        while (!atEnd() && Character.isDigit(src.charAt(at))) {
          at++;
        }
      } else {
        at = save;
      }
    }
    return new Token(Kind.NUMBER, src.substring(start, at), pos, false);
  }

  /** {@code <<EOT} or {@code <<-EOT} up to and including the end of that line. */
  private Token heredoc(Pos pos) {
    at += 2;
    boolean strip = false;
    if (peekChar(0) == '-') {
      strip = true;
      at++;
    }
    int start = at;
    while (!atEnd() && (Character.isLetterOrDigit(src.charAt(at)) || src.charAt(at) == '_' || src.charAt(at) == '-')) {
      at++;
    }
    String marker = src.substring(start, at);
    if (marker.isEmpty()) {
      throw new HclException(pos, "a heredoc needs a marker after <<, e.g. <<EOT");
    }
    while (peekChar(0) == ' ' || peekChar(0) == '\t' || peekChar(0) == '\r') {
      at++;
    }
    if (peekChar(0) != '\n') {
      throw new HclException(here(), "a heredoc marker must end its line");
    }
    takeChar();
    return new Token(Kind.HEREDOC, marker, pos, strip);
  }

  static String printable(int c) {
    return c < 0x20 || c == 0x7f ? String.format("\\x%02x", c) : String.valueOf((char) c);
  }
}
