package dev.stagefarm.config;

/** A setting is missing, unknown or invalid; the message names the key, where it came from and the rule. */
public class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
