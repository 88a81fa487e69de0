package dev.stagefarm.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The type of a key: how its text (from a file, the environment or a flag) becomes a value.
 *
 * @param name the type as the documentation names it
 * @param parse text to value; throws {@link IllegalArgumentException} whose message is the rule the text broke
 */
public record ConfigType<T>(String name, Function<String, T> parse) {

  public static final ConfigType<String> STRING = new ConfigType<>("string", s -> s);

  public static final ConfigType<Integer> INT = new ConfigType<>("integer", s -> {
    try {
      return Integer.parseInt(s.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a whole number");
    }
  });

  public static final ConfigType<Double> DECIMAL = new ConfigType<>("number", s -> {
    try {
      double d = Double.parseDouble(s.strip());
      if (!Double.isFinite(d)) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a number (e.g. 1.5)");
    }
  });

  /** Strict: a typo must not leave a security setting at its other value. */
  public static final ConfigType<Boolean> BOOLEAN = new ConfigType<>("boolean", s ->
      switch (s.strip().toLowerCase(Locale.ROOT)) {
        case "true" -> true;
        case "false" -> false;
        default -> throw new IllegalArgumentException("not true or false");
      });

  public static final ConfigType<Path> PATH = new ConfigType<>("path", s -> {
    try {
      return Path.of(s.strip());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a file path");
    }
  });

  /** {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h} or ISO-8601 ({@code PT5S}). */
  public static final ConfigType<Duration> DURATION = new ConfigType<>("duration", s -> duration(s, false));

  /** A duration where a bare number counts seconds (the coordinator's flags always took seconds). */
  public static final ConfigType<Duration> SECONDS = new ConfigType<>("duration (bare number: seconds)",
      s -> duration(s, true));

  /** Bytes: {@code 1048576}, {@code 512KiB}, {@code 10GiB} (K/M/G/T and KB/MB/… are binary too). */
  public static final ConfigType<Long> SIZE = new ConfigType<>("size", ConfigType::size);

  /** Comma-separated in the environment and a file (or a YAML list); a repeatable flag. */
  public static final ConfigType<List<String>> LIST = new ConfigType<>("list", s ->
      Arrays.stream(s.split(",")).map(String::strip).filter(e -> !e.isEmpty()).toList());

  /** One of the given words (case-insensitive; the value is the word in lower case). */
  public static ConfigType<String> oneOf(String... words) {
    List<String> allowed = List.of(words);
    return new ConfigType<>("one of " + String.join(", ", allowed), s -> {
      String v = s.strip().toLowerCase(Locale.ROOT);
      if (!allowed.contains(v)) {
        throw new IllegalArgumentException("not one of " + String.join(", ", allowed));
      }
      return v;
    });
  }

  private static final Pattern DURATION_TEXT = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h)?");
  private static final Pattern SIZE_TEXT =
      Pattern.compile("(\\d{1,15})\\s*(|B|KiB|MiB|GiB|TiB|K|M|G|T|KB|MB|GB|TB)", Pattern.CASE_INSENSITIVE);

  private static Duration duration(String text, boolean bareSeconds) {
    String s = text.strip();
    Matcher m = DURATION_TEXT.matcher(s);
    if (m.matches() && (m.group(2) != null || bareSeconds)) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2) == null ? "s" : m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    }
    try {
      return Duration.parse(s);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a duration (e.g. 500ms, 5s, 2m, 1h" + (bareSeconds ? ", 30" : "") + ")");
    }
  }

  private static long size(String text) {
    Matcher m = SIZE_TEXT.matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("not a size (e.g. 512MiB, 10GiB)");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2).toUpperCase(Locale.ROOT);
    int shift = unit.isEmpty() || unit.equals("B") ? 0 : switch (unit.charAt(0)) {
      case 'K' -> 10;
      case 'M' -> 20;
      case 'G' -> 30;
      default -> 40;
    };
    if (n > (Long.MAX_VALUE >> shift)) {
      throw new IllegalArgumentException("too large");
    }
    return n << shift;
  }
}
