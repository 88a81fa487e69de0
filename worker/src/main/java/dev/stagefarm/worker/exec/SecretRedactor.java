package dev.stagefarm.worker.exec;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Replaces a build's secret values by {@code ****} in one output stream of a RUN, before the bytes
 * leave the worker. BuildKit does not redact at all; GitHub Actions masks each registered value.
 * What is masked: each value exactly, and each line of a multi-line value (a PEM key printed line
 * by line) that has at least {@link #MIN_LINE_BYTES} bytes; shorter lines would mask ordinary
 * output. Not masked: encodings of a value (base64, URL-encoding, a hash), or a value a RUN prints
 * changed in any way.
 *
 * <p>Streaming: a value may arrive split over any number of writes. Bytes that could still be the
 * start of a value are held back (never more than the longest value minus one byte) until the
 * next write decides, or {@link #finish()} releases them.
 */
final class SecretRedactor {
  static final byte[] MASK = "****".getBytes(StandardCharsets.US_ASCII);
  static final int MIN_LINE_BYTES = 4;

  /** Longest first: where two values match at one place, the longer one is masked. */
  private final List<byte[]> patterns;
  private byte[] held = new byte[0];

  SecretRedactor(List<byte[]> values) {
    Set<String> unique = new LinkedHashSet<>();
    List<byte[]> all = new ArrayList<>();
    for (byte[] value : values) {
      add(value, unique, all);
      String text = new String(value, StandardCharsets.ISO_8859_1); // byte-exact lines
      if (text.indexOf('\n') >= 0) {
        for (String line : text.split("\n")) {
          String trimmed = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
          if (trimmed.length() >= MIN_LINE_BYTES) {
            add(trimmed.getBytes(StandardCharsets.ISO_8859_1), unique, all);
          }
        }
      }
    }
    all.sort(Comparator.comparingInt((byte[] p) -> p.length).reversed());
    this.patterns = List.copyOf(all);
  }

  private static void add(byte[] value, Set<String> unique, List<byte[]> all) {
    if (value.length > 0 && unique.add(new String(value, StandardCharsets.ISO_8859_1))) {
      all.add(value.clone());
    }
  }

  boolean isEmpty() {
    return patterns.isEmpty();
  }

  /** The bytes of {@code data} (after what was held back) that are decided, masked. */
  byte[] write(byte[] data, int length) {
    if (patterns.isEmpty()) {
      return Arrays.copyOf(data, length);
    }
    byte[] buffer = new byte[held.length + length];
    System.arraycopy(held, 0, buffer, 0, held.length);
    System.arraycopy(data, 0, buffer, held.length, length);
    return redact(buffer, false);
  }

  /** Everything still held back: the stream ended, so what was not a whole value stays as it was. */
  byte[] finish() {
    byte[] rest = redact(held, true);
    held = new byte[0];
    return rest;
  }

  private byte[] redact(byte[] buffer, boolean atEnd) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(buffer.length);
    int i = 0;
    while (i < buffer.length) {
      int matched = -1;
      boolean undecided = false;
      for (byte[] pattern : patterns) {
        int available = buffer.length - i;
        if (available >= pattern.length) {
          if (matched < 0 && regionMatches(buffer, i, pattern, pattern.length)) {
            matched = pattern.length; // the longest complete match, as patterns are longest first
          }
        } else if (!atEnd && regionMatches(buffer, i, pattern, available)) {
          undecided = true; // a longer value may still be completed by the next write
        }
      }
      if (undecided) {
        break;
      }
      if (matched > 0) {
        out.writeBytes(MASK);
        i += matched;
      } else {
        out.write(buffer[i]);
        i++;
      }
    }
    held = Arrays.copyOfRange(buffer, i, buffer.length);
    return out.toByteArray();
  }

  private static boolean regionMatches(byte[] buffer, int offset, byte[] pattern, int length) {
    for (int k = 0; k < length; k++) {
      if (buffer[offset + k] != pattern[k]) {
        return false;
      }
    }
    return true;
  }
}
