package dev.stagefarm.bake;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A resolved target: inheritance, matrix, overrides and defaults applied. Values by kind: String,
 * Boolean, {@code List<String>}, {@code Map<String, String>} (a null value: "use the Dockerfile's").
 */
public record BakeTarget(String name, Map<TargetAttribute, Object> attributes) {
  /** A modifiable copy of the attributes. */
  public EnumMap<TargetAttribute, Object> copyOfAttributes() {
    EnumMap<TargetAttribute, Object> copy = new EnumMap<>(TargetAttribute.class);
    copy.putAll(attributes);
    return copy;
  }

  public BakeTarget {
    EnumMap<TargetAttribute, Object> copy = new EnumMap<>(TargetAttribute.class);
    copy.putAll(attributes);
    attributes = Collections.unmodifiableMap(copy);
  }

  public String string(TargetAttribute attribute) {
    return (String) attributes.get(attribute);
  }

  public boolean bool(TargetAttribute attribute) {
    return Boolean.TRUE.equals(attributes.get(attribute));
  }

  @SuppressWarnings("unchecked")
  public List<String> list(TargetAttribute attribute) {
    return (List<String>) attributes.getOrDefault(attribute, List.of());
  }

  @SuppressWarnings("unchecked")
  public Map<String, String> map(TargetAttribute attribute) {
    return (Map<String, String>) attributes.getOrDefault(attribute, Map.of());
  }

  public boolean has(TargetAttribute attribute) {
    return attributes.containsKey(attribute);
  }
}
