package dev.stagefarm.worker.config;

/** A worker setting is missing or invalid; the message names the key. */
public final class ConfigException extends dev.stagefarm.config.ConfigException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
