package dev.stagefarm.dockerfile.instructions;

import java.util.Locale;

/** {@code RUN --network=default|none|host}. */
public enum NetworkMode {
  DEFAULT,
  NONE,
  HOST;

  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }

  static NetworkMode parse(String value) {
    for (NetworkMode m : values()) {
      if (m.value().equals(value)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unsupported network mode \"" + value + "\"");
  }
}
