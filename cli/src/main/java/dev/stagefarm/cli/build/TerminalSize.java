package dev.stagefarm.cli.build;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A terminal's size in character cells. {@link #reader()} reads it from the controlling terminal
 * ({@code stty size} on /dev/tty: the JDK has no call for it), else from COLUMNS and LINES, else
 * assumes 80×24.
 */
public record TerminalSize(int columns, int rows) {
  public static final TerminalSize DEFAULT = new TerminalSize(80, 24);
  /** A resized window shows within this long; stty is a process, so not on every redraw. */
  private static final long REREAD_MS = 1000;

  public TerminalSize {
    columns = Math.max(columns, 10);
    rows = Math.max(rows, 2);
  }

  /** The current size, re-read at most once a second; after stty fails once, only the environment. */
  public static Supplier<TerminalSize> reader() {
    return new Supplier<>() {
      private boolean sttyWorks = new File("/dev/tty").exists();
      private long readAtMs = Long.MIN_VALUE;
      private TerminalSize last = DEFAULT;

      @Override
      public synchronized TerminalSize get() {
        long now = System.currentTimeMillis();
        if (now - readAtMs >= REREAD_MS) {
          readAtMs = now;
          TerminalSize read = sttyWorks ? stty() : null;
          sttyWorks = read != null;
          last = read != null ? read : fromEnvironment(System.getenv("COLUMNS"), System.getenv("LINES"));
        }
        return last;
      }
    };
  }

  /** COLUMNS and LINES as a shell exports them; either missing or malformed takes the default's. */
  static TerminalSize fromEnvironment(String columns, String lines) {
    return new TerminalSize(positive(columns, DEFAULT.columns()), positive(lines, DEFAULT.rows()));
  }

  private static int positive(String text, int fallback) {
    try {
      int value = Integer.parseInt(text == null ? "" : text.strip());
      return value > 0 ? value : fallback;
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  private static TerminalSize stty() {
    Process process = null;
    try {
      process = new ProcessBuilder("stty", "size")
          .redirectInput(new File("/dev/tty"))
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
      byte[] out = process.getInputStream().readNBytes(64);
      if (!process.waitFor(1, TimeUnit.SECONDS) || process.exitValue() != 0) {
        return null;
      }
      String[] parts = new String(out, StandardCharsets.US_ASCII).strip().split("\\s+");
      if (parts.length != 2) {
        return null;
      }
      int rows = Integer.parseInt(parts[0]);
      int columns = Integer.parseInt(parts[1]);
      return rows > 0 && columns > 0 ? new TerminalSize(columns, rows) : null; // 0 0: a pseudo-terminal nobody sized
    } catch (IOException | NumberFormatException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } finally {
      if (process != null) {
        process.destroy();
      }
    }
  }
}
