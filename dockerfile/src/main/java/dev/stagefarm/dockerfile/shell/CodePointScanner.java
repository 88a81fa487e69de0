package dev.stagefarm.dockerfile.shell;

/**
 * Reads a string one Unicode code point at a time, like the Go {@code text/scanner} that BuildKit's
 * lexer uses through {@code Peek()} and {@code Next()}: a byte-order mark at the very start is
 * skipped, and the end of input is {@link #EOF}.
 */
final class CodePointScanner {
  static final int EOF = -1;

  private static final int BYTE_ORDER_MARK = 0xFEFF;

  private final String text;
  private int position;

  CodePointScanner(String text) {
    this.text = text;
    this.position = !text.isEmpty() && text.charAt(0) == BYTE_ORDER_MARK ? 1 : 0;
  }

  /** The next code point without consuming it, or {@link #EOF}. */
  int peek() {
    return position < text.length() ? text.codePointAt(position) : EOF;
  }

  /** Consumes and returns the next code point, or {@link #EOF}. */
  int next() {
    if (position >= text.length()) {
      return EOF;
    }
    int codePoint = text.codePointAt(position);
    position += Character.charCount(codePoint);
    return codePoint;
  }
}
