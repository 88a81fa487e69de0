package dev.stagefarm.dockerfile.instructions;

import java.util.Optional;

/**
 * One name of an ARG (BuildKit's {@code KeyValuePairOptional}).
 *
 * @param key the name
 * @param defaultValue the default as written (quotes kept until expanded), or null for {@code ARG
 *     NAME}
 */
public record ArgDefinition(String key, String defaultValue) {

  /** The default, if one was written. */
  public Optional<String> defaultIfAny() {
    return Optional.ofNullable(defaultValue);
  }

  public boolean hasDefault() {
    return defaultValue != null;
  }
}
