package dev.stagefarm.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The settings of one role after loading: each key's typed value and where it came from. Keys without a
 * value (no default, not set) are absent.
 */
public final class ConfigValues {

  /** One key's value: {@code text} as given, {@code value} parsed and checked. */
  public record Value(ConfigKey<?> key, String text, Object value, Source source) {
    /** The text, or a mask for a secret. */
    public String shown() {
      return key.secret() ? "****" : text;
    }
  }

  private final ConfigDef def;
  private final Map<ConfigKey<?>, Value> values;

  ConfigValues(ConfigDef def, Map<ConfigKey<?>, Value> values) {
    this.def = def;
    this.values = Map.copyOf(values);
  }

  public ConfigDef def() {
    return def;
  }

  /** The key's value, or null when it has none. */
  @SuppressWarnings("unchecked")
  public <T> T get(ConfigKey<T> key) {
    requireKnown(key);
    Value v = values.get(key);
    return v == null ? null : (T) v.value();
  }

  public <T> T getOrDefault(ConfigKey<T> key, T otherwise) {
    T v = get(key);
    return v == null ? otherwise : v;
  }

  /** Whether some source other than the default set it. */
  public boolean isSet(ConfigKey<?> key) {
    requireKnown(key);
    Value v = values.get(key);
    return v != null && v.source().kind() != Source.Kind.DEFAULT;
  }

  public Source source(ConfigKey<?> key) {
    requireKnown(key);
    Value v = values.get(key);
    return v == null ? null : v.source();
  }

  /** {@code key = value (source)}, one line per key in table order; secrets masked. */
  public List<String> describe() {
    List<String> lines = new ArrayList<>();
    for (ConfigKey<?> key : def.keys()) {
      Value v = values.get(key);
      lines.add(v == null
          ? key.name() + " = (not set" + (key.defaultDoc() != null ? ": " + key.defaultDoc().replace("`", "") : "") + ")"
          : key.name() + " = " + v.shown() + "  (" + v.source() + ")");
    }
    return lines;
  }

  private void requireKnown(ConfigKey<?> key) {
    if (!def.contains(key)) {
      throw new IllegalArgumentException(key.name() + " is not a key of the " + def.role());
    }
  }
}
