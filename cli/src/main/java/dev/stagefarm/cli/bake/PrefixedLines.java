package dev.stagefarm.cli.bake;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * A stream whose every line reaches {@code out} whole, behind a prefix: several targets' progress
 * shares one terminal without lines running into each other.
 */
final class PrefixedLines extends OutputStream {
  /** A line longer than this is written in pieces (a RUN that prints no newline cannot grow memory). */
  private static final int MAX_LINE = 64 << 10;

  private final PrintStream out;
  private final byte[] prefix;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();

  private PrefixedLines(PrintStream out, String prefix) {
    this.out = out;
    this.prefix = prefix.getBytes(StandardCharsets.UTF_8);
  }

  static PrintStream of(PrintStream out, String prefix) {
    return new PrintStream(new PrefixedLines(out, prefix), true, StandardCharsets.UTF_8);
  }

  @Override
  public synchronized void write(int b) {
    line.write(b);
    if (b == '\n' || line.size() >= MAX_LINE) {
      emit();
    }
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      write(b[i]);
    }
  }

  private void emit() {
    synchronized (out) {
      out.write(prefix, 0, prefix.length);
      out.write(line.toByteArray(), 0, line.size());
      if (line.toByteArray()[line.size() - 1] != '\n') {
        out.write('\n');
      }
      out.flush();
    }
    line.reset();
  }

  @Override
  public synchronized void close() {
    if (line.size() > 0) {
      emit();
    }
  }
}
