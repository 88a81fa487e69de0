package dev.stagefarm.dockerfile.instructions;

import java.util.Locale;

/** The {@code sharing=} of a cache mount: how concurrent builds share one cache directory. */
public enum CacheSharing {
  SHARED,
  PRIVATE,
  LOCKED;

  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }
}
