package dev.stagefarm.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One setting: its name (the YAML key and the flag {@code --name}), type, default, rule, documentation
 * and whether its value is a secret. Declared once in a key table ({@link CommonKeys}, {@link WorkerKeys},
 * {@link CoordinatorKeys}, {@link UpKeys}); the loader, the flags and docs/configuration.md come from it.
 *
 * @param defaultValue the default as text, parsed like any other value; null: none (or required)
 * @param defaultDoc how the documentation names a default computed at start (e.g. {@code <hostname>-<pid>}),
 *     or null to show {@code defaultValue}
 * @param required a value must come from some source
 * @param secret never printed: {@code --print-config} and errors show it masked
 * @param label the flag's parameter label ({@code HOST:PORT})
 * @param aliases older names, accepted from every source ({@code s3} for {@code s3-endpoint})
 */
public record ConfigKey<T>(
    String name,
    ConfigType<T> type,
    String defaultValue,
    String defaultDoc,
    boolean required,
    Validator<? super T> validator,
    String doc,
    boolean secret,
    String label,
    List<String> aliases) {

  public static final String ENV_PREFIX = "STAGEFARM_";

  public ConfigKey {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(doc, "doc");
    if (!name.matches("[a-z][a-z0-9]*(-[a-z0-9]+)*")) {
      throw new IllegalArgumentException("a key name is lower-case words joined by '-': " + name);
    }
    aliases = List.copyOf(aliases);
    validator = validator == null ? Validator.any() : validator;
  }

  /** A key with no default: absent unless some source sets it. */
  public static <T> ConfigKey<T> of(String name, ConfigType<T> type, String doc) {
    return new ConfigKey<>(name, type, null, null, false, null, doc, false, defaultLabel(type), List.of());
  }

  public ConfigKey<T> defaultValue(String value) {
    type.parse().apply(value); // a default that does not parse is a bug in the table, found at class load
    return new ConfigKey<>(name, type, value, defaultDoc, false, validator, doc, secret, label, aliases);
  }

  /** A default computed at start by the role's code; the documentation shows {@code text}. */
  public ConfigKey<T> computedDefault(String text) {
    return new ConfigKey<>(name, type, defaultValue, text, false, validator, doc, secret, label, aliases);
  }

  public ConfigKey<T> asRequired() {
    return new ConfigKey<>(name, type, null, null, true, validator, doc, secret, label, aliases);
  }

  public ConfigKey<T> validate(Validator<? super T> rule) {
    return new ConfigKey<>(name, type, defaultValue, defaultDoc, required, rule, doc, secret, label, aliases);
  }

  public ConfigKey<T> asSecret() {
    return new ConfigKey<>(name, type, defaultValue, defaultDoc, required, validator, doc, true, label, aliases);
  }

  public ConfigKey<T> label(String paramLabel) {
    return new ConfigKey<>(name, type, defaultValue, defaultDoc, required, validator, doc, secret, paramLabel, aliases);
  }

  public ConfigKey<T> alias(String older) {
    List<String> all = new ArrayList<>(aliases);
    all.add(older);
    return new ConfigKey<>(name, type, defaultValue, defaultDoc, required, validator, doc, secret, label, all);
  }

  /** {@code STAGEFARM_<NAME>}: upper case, {@code -} → {@code _}. */
  public String envName() {
    return envName(name);
  }

  /** The names this key answers to: its own and its aliases. */
  public List<String> names() {
    List<String> all = new ArrayList<>();
    all.add(name);
    all.addAll(aliases);
    return all;
  }

  public static String envName(String keyName) {
    return ENV_PREFIX + keyName.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /** The default as the documentation shows it. */
  public String defaultText() {
    if (required) {
      return "required";
    }
    if (defaultDoc != null) {
      return defaultDoc;
    }
    return defaultValue == null ? "none" : defaultValue.isEmpty() ? "empty" : defaultValue;
  }

  private static String defaultLabel(ConfigType<?> type) {
    if (type == ConfigType.DURATION || type == ConfigType.SECONDS) {
      return "DURATION";
    }
    if (type == ConfigType.SIZE) {
      return "SIZE";
    }
    if (type == ConfigType.PATH) {
      return "FILE";
    }
    if (type == ConfigType.INT || type == ConfigType.DECIMAL) {
      return "N";
    }
    if (type == ConfigType.BOOLEAN) {
      return "true|false";
    }
    return "VALUE";
  }
}
