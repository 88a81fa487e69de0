package dev.stagefarm.worker.runtime;

/** Byte counts as a user writes them in the worker's settings, for messages that name a limit. */
public final class Sizes {
  private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB"};

  private Sizes() {}

  /** {@code 268435456} → {@code 256MiB}; a count that is no whole number of a unit stays in the smaller one. */
  public static String format(long bytes) {
    int unit = 0;
    long n = bytes;
    while (unit < UNITS.length - 1 && n >= 1024 && n % 1024 == 0) {
      n /= 1024;
      unit++;
    }
    return n + UNITS[unit];
  }
}
