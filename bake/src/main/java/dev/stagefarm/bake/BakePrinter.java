package dev.stagefarm.bake;

import dev.stagefarm.bake.hcl.JsonText;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** {@code bake --print}: the resolved definition as buildx prints it (groups and targets by name). */
public final class BakePrinter {
  private BakePrinter() {}

  public static String print(BakeResolver.Result result) {
    Map<String, Object> groups = new TreeMap<>();
    result.groups().forEach((name, targets) -> groups.put(name, Map.of("targets", new ArrayList<Object>(targets))));
    Map<String, Object> targets = new TreeMap<>();
    result.targets().forEach((name, target) -> targets.put(name, attributes(target)));
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("group", groups);
    root.put("target", targets);
    return JsonText.write(root, true);
  }

  private static Map<String, Object> attributes(BakeTarget target) {
    Map<String, Object> out = new LinkedHashMap<>();
    target.attributes().forEach((attribute, value) -> {
      if (value instanceof Map<?, ?> map) {
        Map<String, Object> sorted = new TreeMap<>();
        map.forEach((k, v) -> {
          if (v != null) {
            sorted.put((String) k, v);
          }
        });
        value = sorted;
      } else if (value instanceof java.util.List<?> list) {
        value = new ArrayList<Object>(list);
      }
      out.put(attribute.key(), value);
    });
    return out;
  }
}
