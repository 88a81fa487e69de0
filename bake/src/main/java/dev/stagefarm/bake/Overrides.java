package dev.stagefarm.bake;

import dev.stagefarm.bake.hcl.HclException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code --set PATTERN.KEY[.NAME]=VALUE} as buildx applies it: PATTERN is a target name or a glob
 * ({@code *}, {@code ?}); a list attribute set several times holds all the values given (they
 * replace the file's); {@code args.NAME}, {@code labels.NAME}, {@code contexts.NAME} set one entry;
 * {@code push=true} adds a registry output.
 */
final class Overrides {
  private Overrides() {}

  private static final Map<String, TargetAttribute> ALIASES = Map.of(
      "platform", TargetAttribute.PLATFORMS,
      "secrets", TargetAttribute.SECRET,
      "outputs", TargetAttribute.OUTPUT);

  static List<BakeTarget> apply(List<String> sets, List<BakeTarget> targets) {
    List<Map<TargetAttribute, Object>> values = new ArrayList<>();
    for (BakeTarget target : targets) {
      values.add(target.copyOfAttributes());
    }
    Set<String> replaced = new HashSet<>(); // "target\0attribute": the list was replaced by a --set already
    for (String set : sets) {
      int eq = set.indexOf('=');
      if (eq < 0) {
        throw new HclException(null, "--set wants PATTERN.KEY=VALUE, got \"" + set + "\"");
      }
      String path = set.substring(0, eq);
      String value = set.substring(eq + 1);
      int dot = path.indexOf('.');
      if (dot <= 0 || dot == path.length() - 1) {
        throw new HclException(null, "--set wants PATTERN.KEY=VALUE (e.g. *.tags=app:dev), got \"" + set + "\"");
      }
      Pattern pattern = glob(path.substring(0, dot));
      String key = path.substring(dot + 1);
      String subkey = null;
      int subDot = key.indexOf('.');
      if (subDot > 0) {
        subkey = key.substring(subDot + 1);
        key = key.substring(0, subDot);
      }
      boolean matched = false;
      for (int i = 0; i < targets.size(); i++) {
        if (pattern.matcher(targets.get(i).name()).matches()) {
          matched = true;
          set(values.get(i), targets.get(i).name(), key, subkey, value, set, replaced);
        }
      }
      if (!matched) {
        throw new HclException(null, "--set " + set + ": no target to build matches \"" + path.substring(0, dot) + "\"");
      }
    }
    List<BakeTarget> out = new ArrayList<>();
    for (int i = 0; i < targets.size(); i++) {
      out.add(new BakeTarget(targets.get(i).name(), values.get(i)));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static void set(Map<TargetAttribute, Object> values, String target, String key, String subkey, String value,
      String set, Set<String> replaced) {
    switch (key) {
      case "push", "load" -> {
        if (!Boolean.parseBoolean(value)) {
          return;
        }
        List<String> outputs = new ArrayList<>((List<String>) values.getOrDefault(TargetAttribute.OUTPUT, List.of()));
        outputs.add(key.equals("push") ? "type=registry" : "type=docker");
        values.put(TargetAttribute.OUTPUT, List.copyOf(outputs));
        return;
      }
      default -> {}
    }
    TargetAttribute attribute = ALIASES.getOrDefault(key, TargetAttribute.byKey(key).orElse(null));
    if (attribute == null || attribute == TargetAttribute.DESCRIPTION) {
      throw new HclException(null, "--set " + set + ": unknown key \"" + key + "\"");
    }
    if (attribute.kind() == TargetAttribute.Kind.MAP) {
      if (subkey == null) {
        throw new HclException(null, "--set " + set + ": " + key + " is set one entry at a time, e.g. "
            + key + ".NAME=VALUE");
      }
      Map<String, String> map = new LinkedHashMap<>((Map<String, String>) values.getOrDefault(attribute, Map.of()));
      map.put(subkey, value);
      values.put(attribute, java.util.Collections.unmodifiableMap(map));
      return;
    }
    if (subkey != null) {
      throw new HclException(null, "--set " + set + ": " + key + " has no entries (." + subkey + ")");
    }
    switch (attribute.kind()) {
      case STRING -> values.put(attribute, value);
      case BOOL -> {
        switch (value.toLowerCase(Locale.ROOT)) {
          case "true", "1" -> values.put(attribute, true);
          case "false", "0" -> values.put(attribute, false);
          default -> throw new HclException(null, "--set " + set + ": " + key + " is true or false");
        }
      }
      case LIST -> {
        List<String> list = replaced.add(target + "\0" + attribute)
            ? new ArrayList<>() : new ArrayList<>((List<String>) values.getOrDefault(attribute, List.of()));
        if (attribute == TargetAttribute.PLATFORMS) {
          for (String platform : value.split(",")) {
            list.add(platform.strip());
          }
        } else {
          list.add(value);
        }
        values.put(attribute, List.copyOf(list));
      }
      default -> throw new IllegalStateException(attribute.toString());
    }
  }

  /** A buildx target pattern ({@code path.Match}: {@code *} and {@code ?}) as a regex. */
  private static Pattern glob(String pattern) {
    StringBuilder regex = new StringBuilder();
    for (char c : pattern.toCharArray()) {
      switch (c) {
        case '*' -> regex.append(".*");
        case '?' -> regex.append('.');
        default -> regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString());
  }
}
