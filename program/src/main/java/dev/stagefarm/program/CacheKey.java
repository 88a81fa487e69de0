package dev.stagefarm.program;

import java.util.regex.Pattern;

/** A cache key: 64 lower-case hex digits of a SHA-256 (stored under {@code cache/<hex>}). */
public record CacheKey(String hex) {
  private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

  public CacheKey {
    if (hex == null || !HEX.matcher(hex).matches()) {
      throw new IllegalArgumentException("not a cache key (64 lower-case hex digits): " + hex);
    }
  }

  @Override
  public String toString() {
    return hex;
  }
}
