package dev.stagefarm.program;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The secrets one build's client sent ({@code --secret}), by id. Held in memory only, for the
 * build they came with; {@link #toString()} names the ids, never a value.
 */
public final class BuildSecrets {
  /** A build without secrets. */
  public static final BuildSecrets NONE = new BuildSecrets(Map.of());

  private final Map<String, byte[]> values;

  private BuildSecrets(Map<String, byte[]> values) {
    TreeMap<String, byte[]> copy = new TreeMap<>();
    values.forEach((id, value) -> copy.put(id, value.clone()));
    this.values = Collections.unmodifiableMap(copy);
  }

  public static BuildSecrets of(Map<String, byte[]> values) {
    return values.isEmpty() ? NONE : new BuildSecrets(values);
  }

  /** The value of secret {@code id} (a copy), or empty when the client did not send it. */
  public Optional<byte[]> value(String id) {
    byte[] value = values.get(id);
    return value == null ? Optional.empty() : Optional.of(value.clone());
  }

  public Set<String> ids() {
    return values.keySet();
  }

  /** Every value (copies), for redacting them from output. */
  public List<byte[]> values() {
    List<byte[]> all = new ArrayList<>();
    values.values().forEach(v -> all.add(v.clone()));
    return all;
  }

  /** Every value by id (copies), for sealing. */
  public Map<String, byte[]> asMap() {
    TreeMap<String, byte[]> copy = new TreeMap<>();
    values.forEach((id, value) -> copy.put(id, value.clone()));
    return copy;
  }

  public boolean isEmpty() {
    return values.isEmpty();
  }

  @Override
  public String toString() {
    return "BuildSecrets" + values.keySet(); // ids only
  }
}
