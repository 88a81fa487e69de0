package dev.stagefarm.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The key table of one role, in documentation order: every setting the role reads, from every source.
 *
 * @param role the command that reads it ({@code worker}, {@code coordinator}, {@code up})
 * @param removed keys that once existed, with what replaced them: named from any source, they fail with that text
 */
public record ConfigDef(String role, List<ConfigKey<?>> keys, Map<String, String> removed) {

  public ConfigDef {
    keys = List.copyOf(keys);
    removed = Map.copyOf(removed);
    Map<String, String> seen = new LinkedHashMap<>();
    for (ConfigKey<?> key : keys) {
      for (String name : key.names()) {
        if (seen.put(name, key.name()) != null || removed.containsKey(name)) {
          throw new IllegalArgumentException(role + ": the name '" + name + "' is declared twice");
        }
      }
    }
  }

  public static ConfigDef of(String role, List<List<ConfigKey<?>>> groups) {
    List<ConfigKey<?>> all = new ArrayList<>();
    groups.forEach(all::addAll);
    return new ConfigDef(role, all, Map.of());
  }

  public ConfigDef withRemoved(String name, String replacement) {
    Map<String, String> all = new LinkedHashMap<>(removed);
    all.put(name, replacement);
    return new ConfigDef(role, keys, all);
  }

  /** The key with this name or alias. */
  public Optional<ConfigKey<?>> find(String name) {
    return keys.stream().filter(k -> k.names().contains(name)).findFirst();
  }

  /** The key read from this environment variable ({@code STAGEFARM_<NAME>} of its name or an alias). */
  public Optional<ConfigKey<?>> findByEnv(String variable) {
    return keys.stream()
        .filter(k -> k.names().stream().anyMatch(n -> ConfigKey.envName(n).equals(variable)))
        .findFirst();
  }

  public boolean contains(ConfigKey<?> key) {
    return keys.contains(key);
  }
}
