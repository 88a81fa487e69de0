package dev.stagefarm.dockerfile.instructions;

import java.util.Locale;

/** The {@code type=} of a {@code RUN --mount}. */
public enum MountType {
  BIND,
  CACHE,
  TMPFS,
  SECRET,
  SSH;

  /** The lower-case name as written in a Dockerfile. */
  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }
}
