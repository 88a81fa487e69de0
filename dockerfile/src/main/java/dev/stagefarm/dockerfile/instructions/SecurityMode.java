package dev.stagefarm.dockerfile.instructions;

import java.util.Locale;

/** {@code RUN --security=sandbox|insecure}. */
public enum SecurityMode {
  SANDBOX,
  INSECURE;

  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }

  static SecurityMode parse(String value) {
    for (SecurityMode m : values()) {
      if (m.value().equals(value)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unsupported security mode \"" + value + "\"");
  }
}
