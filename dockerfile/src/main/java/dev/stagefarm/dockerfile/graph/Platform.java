package dev.stagefarm.dockerfile.graph;

import java.util.Locale;

/**
 * An OS/architecture/variant triple as in {@code linux/arm64/v8}.
 *
 * @param os e.g. {@code linux}
 * @param architecture e.g. {@code amd64}
 * @param variant e.g. {@code v8}; empty when none
 */
public record Platform(String os, String architecture, String variant) {

  /** What a build targets when nothing else is said. */
  public static final Platform DEFAULT = new Platform("linux", "amd64", "");

  /**
   * Parses {@code os/arch[/variant]}.
   *
   * @throws IllegalArgumentException for anything else
   */
  public static Platform parse(String text) {
    String[] parts = text.strip().toLowerCase(Locale.ROOT).split("/", -1);
    if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw new IllegalArgumentException(
          "invalid platform \"" + text + "\": expected os/arch[/variant], e.g. linux/amd64");
    }
    return new Platform(parts[0], parts[1], parts.length == 3 ? parts[2] : "");
  }

  /** {@code os/arch} or {@code os/arch/variant}. */
  public String format() {
    return variant.isEmpty() ? os + "/" + architecture : os + "/" + architecture + "/" + variant;
  }

  @Override
  public String toString() {
    return format();
  }
}
