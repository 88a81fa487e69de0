package dev.stagefarm.dockerfile.parser;

import dev.stagefarm.dockerfile.internal.GoText;

import dev.stagefarm.dockerfile.DockerfileException;

/**
 * The physical lines of a Dockerfile, each with its line ending kept (heredoc bodies need it),
 * read the way BuildKit's {@code bufio.Scanner} reads them: split after every LF, a last line
 * without LF still counts, and a line longer than 65,535 bytes is fatal.
 */
final class PhysicalLines {

  /** {@code bufio.MaxScanTokenSize - 1}: the longest line BuildKit accepts, in bytes. */
  static final int MAX_LINE_BYTES = 65_535;

  private final String text;
  private int pos;
  private int lineNumber;

  PhysicalLines(String text) {
    this.text = text;
  }

  boolean hasNext() {
    return pos < text.length();
  }

  /** The next line including its {@code \n} (absent on a last line without one). */
  String next() {
    int nl = text.indexOf('\n', pos);
    int end = nl < 0 ? text.length() : nl + 1;
    String line = text.substring(pos, end);
    pos = end;
    lineNumber++;
    int contentEnd = nl < 0 ? line.length() : line.length() - 1;
    if (contentEnd > MAX_LINE_BYTES / 3 // cheap pre-check: a char is at most 3 UTF-8 bytes
        && GoText.utf8Length(line.subSequence(0, contentEnd)) > MAX_LINE_BYTES) {
      throw new DockerfileException(lineNumber,
          "dockerfile line greater than max allowed size of " + MAX_LINE_BYTES);
    }
    return line;
  }

  /** The 1-based number of the line last returned. */
  int lineNumber() {
    return lineNumber;
  }
}
