package dev.stagefarm.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Writes command output to stdout as UTF-8, whatever the platform charset (Dockerfiles are). */
final class Utf8Stdout {

  private Utf8Stdout() {}

  static void print(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    PrintStream out = System.out;
    out.write(bytes, 0, bytes.length);
    out.flush();
  }
}
