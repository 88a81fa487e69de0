package dev.stagefarm.coordinator.compile;

import dev.stagefarm.dockerfile.internal.GoText;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The few Go fmt verbs BuildKit's history texts are written with ({@code %q} and {@code %v} of a
 * string slice, a {@code time.Duration}), so stagefarm's {@code created_by} reads byte for byte the
 * same. Quoting is the frontend's {@link GoText#quote}, the one Go {@code strconv.Quote} here.
 */
final class GoFormat {
  private GoFormat() {}

  /** {@code fmt.Sprintf("%v", list)}: {@code [a b c]}. */
  static String list(List<String> values) {
    return "[" + String.join(" ", values) + "]";
  }

  /** {@code fmt.Sprintf("%q", list)}: {@code ["a" "b c"]}. */
  static String quotedList(List<String> values) {
    return values.stream().map(GoText::quote).collect(Collectors.joining(" ", "[", "]"));
  }

  /** {@code time.Duration.String()}: {@code 0s}, {@code 1.5s}, {@code 1m30s}, {@code 1h0m0s}, {@code 500ms}. */
  static String duration(Duration d) {
    long nanos = d.toNanos();
    boolean negative = nanos < 0;
    long u = Math.abs(nanos);
    StringBuilder out = new StringBuilder();
    if (u < 1_000_000_000L) {
      if (u == 0) {
        return "0s";
      } else if (u < 1_000L) {
        out.append(u).append("ns");
      } else if (u < 1_000_000L) {
        out.append(scaled(u, 3)).append("µs");
      } else {
        out.append(scaled(u, 6)).append("ms");
      }
    } else {
      long seconds = u / 1_000_000_000L;
      String secondsText = (seconds % 60) + fraction(u % 1_000_000_000L, 9) + "s";
      long minutes = seconds / 60;
      if (minutes > 0) {
        long hours = minutes / 60;
        out.append(hours > 0 ? hours + "h" : "").append(minutes % 60).append('m');
      }
      out.append(secondsText);
    }
    return (negative ? "-" : "") + out;
  }

  /** {@code v / 10^digits} with its fraction, as {@link #fraction} writes it. */
  private static String scaled(long v, int digits) {
    long scale = (long) Math.pow(10, digits);
    return (v / scale) + fraction(v % scale, digits);
  }

  /** {@code .5} for 500 of 3 digits: trailing zeros dropped, nothing at all for 0. */
  private static String fraction(long remainder, int digits) {
    if (remainder == 0) {
      return "";
    }
    return "." + String.format("%0" + digits + "d", remainder).replaceAll("0+$", "");
  }
}
