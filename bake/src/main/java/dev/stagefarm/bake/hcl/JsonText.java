package dev.stagefarm.bake.hcl;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * HCL values to JSON text and back. The pretty form is Go's {@code json.MarshalIndent(v, "", "  ")}
 * (what {@code buildx bake --print} prints), including its escaping of {@code <}, {@code >} and
 * {@code &}.
 */
public final class JsonText {
  private JsonText() {}

  public static String write(Object value, boolean pretty) {
    StringBuilder out = new StringBuilder();
    write(value, pretty, 0, out);
    return out.toString();
  }

  private static void write(Object value, boolean pretty, int indent, StringBuilder out) {
    switch (value) {
      case null -> out.append("null");
      case Boolean b -> out.append(b);
      case BigDecimal n -> out.append(Values.format(n));
      case String s -> quote(s, out);
      case List<?> list -> {
        if (list.isEmpty()) {
          out.append("[]");
          return;
        }
        out.append('[');
        for (int i = 0; i < list.size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          newline(pretty, indent + 1, out);
          write(list.get(i), pretty, indent + 1, out);
        }
        newline(pretty, indent, out);
        out.append(']');
      }
      case Map<?, ?> map -> {
        if (map.isEmpty()) {
          out.append("{}");
          return;
        }
        out.append('{');
        boolean first = true;
        for (var e : map.entrySet()) {
          if (!first) {
            out.append(',');
          }
          first = false;
          newline(pretty, indent + 1, out);
          quote(String.valueOf(e.getKey()), out);
          out.append(pretty ? ": " : ":");
          write(e.getValue(), pretty, indent + 1, out);
        }
        newline(pretty, indent, out);
        out.append('}');
      }
      default -> quote(value.toString(), out);
    }
  }

  private static void newline(boolean pretty, int indent, StringBuilder out) {
    if (pretty) {
      out.append('\n').append("  ".repeat(indent));
    }
  }

  private static void quote(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '<', '>', '&', '\u2028', '\u2029' -> out.append(String.format("\\u%04x", (int) c));
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /** A parsed JSON document as HCL values. */
  public static Object toValue(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    if (node.isBoolean()) {
      return node.booleanValue();
    }
    if (node.isNumber()) {
      return node.decimalValue();
    }
    if (node.isTextual()) {
      return node.textValue();
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(item -> list.add(toValue(item)));
      return list;
    }
    Map<String, Object> map = new LinkedHashMap<>();
    node.properties().forEach(e -> map.put(e.getKey(), toValue(e.getValue())));
    return map;
  }
}
